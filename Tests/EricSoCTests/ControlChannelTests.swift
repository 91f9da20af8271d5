import AlertProtocol
import Crypto
import ELF32
import EricSoC
import Foundation
import GDBRemote
import LM32Asm
import MPUSim
import Sealing
import Testing
import TestSupport

/// The firmware's control channel (docs/protocol.md, "Control") on the SoC: sealed bundles
/// arrive as frames, the firmware hands them to the checker and answers, and the sweep that
/// follows finds what the direct scan finds with the same automata.
@Suite struct ControlChannelTests {
    static let keyBytes: [UInt8] = (0..<32).map { UInt8(255 - $0) }
    static let key = try! DeviceKey(bytes: keyBytes)

    final class Board: @unchecked Sendable {
        let soc: SoC
        var console: [UInt8] = []
        var frames: [[UInt8]] = []
        var sequence: UInt32 = 0

        init(host: any PhysicalMemory, key: DeviceKey?, bootNonce: UInt64? = nil, ramSize: UInt32? = nil) throws {
            let firmware = LM32Assembler.assemble(path: packageRoot.appendingPathComponent("firmware/eric.S").path)
            var configuration = SoC.Configuration()
            configuration.key = key
            configuration.controlChannel = true
            configuration.bootNonce = bootNonce
            if let ramSize { configuration.ramSize = ramSize }
            var console: (UInt8) -> Void = { _ in }
            var frames: ([UInt8]) -> Void = { _ in }
            soc = try SoC(firmware: try ELF32File(parsing: try #require(firmware.program).elf()), host: host, configuration: configuration,
                          console: { console($0) }, frames: { frames($0) })
            console = { [unowned self] in self.console.append($0) }
            frames = { [unowned self] in self.frames.append($0) }
            #expect(soc.run(budget: 10_000_000) == .asleep)       // booted, waiting for the channel
        }

        /// Sends one control message and runs the board until it sleeps again (or powers off);
        /// returns its answer and the other frames it sent meanwhile.
        func send(_ kind: ControlMessage.Kind, argument: UInt32 = 0, data: [UInt8] = [], port: UInt16 = 40000) throws -> (ControlReply, [[UInt8]]) {
            let (answer, others) = try exchange(kind, argument: argument, data: data, port: port)
            return (try ControlReply(payload: answer), others)
        }

        /// The same for READ, MAP and DIGEST, whose answers carry evidence: the request signed
        /// with `signer` (the request key) for boot `nonce`, or not signed.
        func evidence(_ kind: ControlMessage.Kind, argument: UInt32 = 0, data: [UInt8] = [],
                      signer: RecordAuthenticator? = nil, nonce: UInt64 = 0) throws -> EvidenceReply {
            try EvidenceReply(payload: exchange(kind, argument: argument, data: data, sign: signer.map { signer in
                { signer.tag(bootNonce: nonce, body: $0) }
            }).0)
        }

        /// One message (its tag appended when `sign` gives one): the payload of its answer, and
        /// the other frames sent meanwhile.
        func exchange(_ kind: ControlMessage.Kind, argument: UInt32 = 0, data: [UInt8] = [], port: UInt16 = 40000,
                      sign: (([UInt8]) -> [UInt8])? = nil) throws -> ([UInt8], [[UInt8]]) {
            sequence += 1
            var request = ControlMessage.request(kind, sequence: sequence, argument: argument, data: data)
            if let sign { request += sign(request) }
            let datagram = UDPFrame(sourceIP: [192, 168, 0, 14], destinationIP: UDPFrame.deviceIP, sourcePort: port,
                                    destinationPort: ControlMessage.port, payload: request)
            frames.removeAll()
            #expect(soc.ethernet.receive(datagram.ethernetFrame(from: UDPFrame.operatorMAC, to: UDPFrame.deviceMAC)))
            let stop = soc.run(budget: kind == .start ? 400_000_000 : 5_000_000)
            try #require(stop == (kind == .shutdown ? .shutdown : .asleep),
                         "\(kind): \(stop) at pc 0x\(String(soc.cpu.pc, radix: 16)); console: \(String(decoding: console, as: UTF8.self))")
            var answers: [[UInt8]] = []
            var others: [[UInt8]] = []
            for frame in frames {
                let udp = try UDPFrame(frame: frame)
                if udp.sourcePort == ControlMessage.port {
                    // To the sender: its MAC, address and port.
                    #expect(Array(frame[0..<6]) == UDPFrame.operatorMAC && udp.destinationIP == [192, 168, 0, 14] && udp.destinationPort == port)
                    answers.append(udp.payload)
                } else {
                    others.append(frame)
                }
            }
            let answer = try #require(answers.count == 1 ? answers.first : nil, "\(answers.count) answers")
            let answeredSequence = answer.count >= 12 ? answer[8..<12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } : 0
            #expect(answer.count >= 20 && answer[5] == kind.rawValue | 0x80 && answeredSequence == sequence)
            return (answer, others)
        }

        /// LOAD in chunks, then COMMIT: the checker's result.
        func push(_ bundle: [UInt8]) throws -> ControlReply {
            let padded = bundle + [UInt8](repeating: 0, count: (4 - bundle.count % 4) % 4)
            for offset in stride(from: 0, to: padded.count, by: ControlMessage.maximumData) {
                let chunk = Array(padded[offset..<min(padded.count, offset + ControlMessage.maximumData)])
                let (reply, _) = try send(.load, argument: UInt32(offset), data: chunk)
                #expect(reply.result == UInt32(offset + chunk.count))
            }
            return try send(.commit, argument: UInt32(bundle.count)).0
        }

        func sweep() throws -> [AlertRecord] {
            let (reply, frames) = try send(.start)
            #expect(reply.result == 0)
            return try frames.map { try AlertRecord(payload: try UDPFrame(frame: $0).payload) }
        }
    }

    struct Finding: Hashable { var page: UInt64, automaton: UInt16, value: UInt64, name: UInt16 }

    @Test func aPushedSealedSetFindsWhatTheDirectScanFindsAndBadOnesAreRefused() throws {
        let bytes = try [UInt8](Data(contentsOf: packageRoot.appendingPathComponent("Fixtures/dumps/example.raw")))
        let host = BufferMemory([(physicalStart: 0, bytes: bytes)])
        let board = try Board(host: host, key: Self.key)
        #expect(try board.send(.status).0.result == 0)             // no sealed set yet

        // The sweep's automata of the shipped set, sealed as eric seal does.
        let automata = FirmwareTests.shipped()
        let table = try SoC.table(automata.map(\.image), names: automata.map(\.name))
        let bundle = try SealedBundle.seal(table: table.bytes, version: 4, key: Self.key)
        let installed = try board.push(bundle.bytes)
        #expect(installed.result == 0 && installed.setVersion == 4)
        let records = try board.sweep()
        #expect(records.last?.kind == .summary)

        var direct: Set<Finding> = []
        _ = Scanner(automata: automata, options: ScanOptions(jobs: 1)).run(host) { event in
            if case .finding(let finding) = event {
                let names = automata[finding.automaton].metadata.alerts.map(\.value)
                direct.insert(Finding(page: finding.pageAddress, automaton: UInt16(finding.automaton), value: finding.value,
                                      name: names.firstIndex(of: finding.value).map(UInt16.init) ?? 0xffff))
            }
        }
        let pushed = Set(records.filter { $0.kind == .alert && $0.origin == .sweep }.map {
            Finding(page: $0.page, automaton: $0.automaton, value: $0.value, name: $0.nameID)
        })
        #expect(!direct.isEmpty && pushed == direct)

        // Refused whole, each with its reason; the set in place keeps running.
        var tampered = try SealedBundle.seal(table: table.bytes, version: 5, key: Self.key).bytes
        tampered[100] ^= 1
        let other = try DeviceKey(bytes: [UInt8](repeating: 1, count: 32))
        for (bad, reason) in [(tampered, UInt32(3)),
                              (try SealedBundle.seal(table: table.bytes, version: 4, key: Self.key).bytes, 4),
                              (try SealedBundle.seal(table: table.bytes, version: 9, key: other).bytes, 2)] {
            let refused = try board.push(bad)
            #expect(refused.result == reason && refused.setVersion == 4)
        }
        let again = try board.sweep()
        #expect(Set(again.filter { $0.kind == .alert && $0.origin == .sweep }.map {
            Finding(page: $0.page, automaton: $0.automaton, value: $0.value, name: $0.nameID) }) == direct)
        let console = String(decoding: board.console, as: UTF8.self)
        #expect(console.contains("bundle: result 0x00000000 set version 0x00000004"))
        #expect(console.contains("bundle: result 0x00000003 set version 0x00000004"))

        // Another sender: the answer goes to its port, with the set in place.
        let (unknown, _) = try board.send(.status, port: 40001)
        #expect(unknown.result == 4)
        // What the LM32 and its debugger can reach: ROM, the firmware's RAM, the Ethernet buffers
        // (the bundle passed through them) and every checker register, read through the GDB stub
        // as lm32-elf-gdb would ('m' packets). Neither the key nor a word of the set's code in
        // clear is anywhere in it.
        let session = GDBSession(target: LM32DebugTarget(cpu: board.soc.cpu))
        var seen: [UInt8] = []
        for (start, length) in [(UInt32(0), 1 << 20), (SoC.Address.ram, 1 << 20), (SoC.Address.ethernetBuffers, 0x1800), (SoC.Address.checker, 0x1000)] {
            for address in stride(from: start, to: start + UInt32(length), by: 1024) {
                guard case .reply(let text) = session.handle(Array("m\(String(address, radix: 16)),400".utf8)), !text.hasPrefix("E") else { continue }
                let hex = Array(text.utf8)
                seen += stride(from: 0, to: hex.count - 1, by: 2).compactMap { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16) }
            }
        }
        #expect(seen.count > 2 << 20)
        let code = automata.flatMap(\.image.code)
        let secrets = Set(stride(from: 0, to: code.count, by: 8).map { Array(code[$0..<$0 + 8]) }.filter { $0.contains { $0 != 0 } })
            .union([Array(Self.keyBytes.prefix(8)), Array(Self.keyBytes.suffix(8))])
        var index = 0
        var found: [Int] = []
        while index + 8 <= seen.count {
            if secrets.contains(Array(seen[index..<index + 8])) { found.append(index) }
            index += 1
        }
        #expect(found.isEmpty, "secret bytes at \(found.prefix(5))")
        // The same search finds what is there in clear: the firmware's banner in ROM.
        let banner = Array("ERIC firm".utf8.prefix(8))
        #expect((0...(seen.count - 8)).contains { seen[$0] == banner[0] && Array(seen[$0..<$0 + 8]) == banner })

        #expect(try board.send(.shutdown).0.result == 0)
    }

    /// READ, MAP and DIGEST, the evidence a verifier asks for (docs/protocol.md): the bytes of
    /// the dump itself, each answer authenticated under the record key and the boot nonce; a
    /// block not wholly in host memory, or not a block's start, is said so, never read around.
    /// The board answers only requests signed under the request key for this boot.
    @Test func evidenceAnswersAreTheHostsOwnBytesAuthenticatedForSignedRequestsOnly() throws {
        let bytes = try [UInt8](Data(contentsOf: packageRoot.appendingPathComponent("Fixtures/dumps/example.raw")))
        let host = BufferMemory([(physicalStart: 0, bytes: bytes)])
        let nonce: UInt64 = 0x0123_4567_89ab_cdef
        let board = try Board(host: host, key: Self.key, bootNonce: nonce)
        let authenticator = RecordAuthenticator(deviceKey: Self.key)
        let signer = RecordAuthenticator.requests(Self.key)
        func address(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) } }
        func holds(_ reply: EvidenceReply) -> Bool {
            guard let authentication = reply.authentication else { return false }
            return authentication.bootNonce == nonce && authenticator.verify(bootNonce: nonce, body: reply.signedBytes, tag: authentication.tag)
        }
        func ask(_ kind: ControlMessage.Kind, _ data: [UInt8], argument: UInt32 = 0) throws -> EvidenceReply {
            try board.evidence(kind, argument: argument, data: data, signer: signer, nonce: nonce)
        }
        // The example holds 0x140000 bytes from 0: its second block, and its last.
        for block: UInt64 in [0x400, 0x13fc00] {
            let read = try ask(.read, address(block))
            #expect(read.reply.result == 0 && read.evidence == address(block) + bytes[Int(block)..<Int(block) + 1024] && holds(read))
        }
        // Changed on the way: the tag no longer holds.
        var tampered = try ask(.read, address(0x1000))
        tampered.signedBytes[40] ^= 1
        #expect(!holds(tampered))
        let outside = try ask(.read, address(0x140000))
        #expect(outside.reply.result == 1 && outside.evidence.count == 8 + 1024 && holds(outside))
        let misaligned = try ask(.read, address(0x1200))
        #expect(misaligned.reply.result == 2 && misaligned.evidence == address(0x1200) && holds(misaligned))
        let wrapped = try ask(.read, address(0xffff_ffff_ffff_fc00))
        #expect(wrapped.reply.result == 1 && holds(wrapped))
        // No address: refused as an unknown message is, with a plain 20-byte answer.
        #expect(try board.send(.read, data: [0, 0, 0, 0]).0.result == 0xffff_ffff)
        let map = try ask(.map, [], argument: 0)
        #expect(map.reply.result == 1 && map.evidence == address(0) + address(0x140000) && holds(map))
        let past = try ask(.map, [], argument: 1)
        #expect(past.reply.result == 1 && past.evidence == [UInt8](repeating: 0, count: 16) && holds(past))
        // DIGEST: the checker's SHA-256 of a page, as swift-crypto computes it from the dump.
        let digest = try ask(.digest, address(0x13f000))
        #expect(digest.reply.result == 0 && digest.evidence == address(0x13f000) + Array(SHA256.hash(data: bytes[0x13f000..<0x140000])) && holds(digest))
        let digestOutside = try ask(.digest, address(0x140000))
        #expect(digestOutside.reply.result == 1 && digestOutside.evidence == address(0x140000) + [UInt8](repeating: 0, count: 32) && holds(digestOutside))
        let digestMisaligned = try ask(.digest, address(0x1400))
        #expect(digestMisaligned.reply.result == 2 && digestMisaligned.evidence == address(0x1400) && holds(digestMisaligned))

        // Requests not signed, signed with another key, or for another boot: refused (3), the
        // bare answer, nothing read.
        let otherKey = try DeviceKey(bytes: [UInt8](repeating: 9, count: 32))
        for refused in [try board.evidence(.read, data: address(0x400) + [UInt8](repeating: 0, count: 16)),
                        try board.evidence(.read, data: address(0x400), signer: RecordAuthenticator.requests(otherKey), nonce: nonce),
                        try board.evidence(.digest, data: address(0x1000), signer: signer, nonce: nonce ^ 1),
                        try board.evidence(.map, signer: RecordAuthenticator(deviceKey: Self.key), nonce: nonce)] {
            #expect(refused.reply.result == ControlMessage.refused && refused.evidence.isEmpty && refused.authentication == nil)
        }
        // A board without a key reads host memory for no one.
        let plain = try Board(host: host, key: nil)
        let unkeyed = try plain.evidence(.read, data: address(0x400), signer: signer, nonce: 0)
        #expect(unkeyed.reply.result == ControlMessage.refused && unkeyed.evidence.isEmpty)
    }

    /// The firmware's stack fits the first MiB of RAM, its top word included: with 1 MiB, a
    /// message's handler once wrote one word past the end (the control fuzz target found it:
    /// a data bus error, "fatal exception", on the first message after a START).
    @Test func theFirmwareRunsInOneMebibyteOfRAM() throws {
        let host = BufferMemory([(physicalStart: 0, bytes: [UInt8](repeating: 1, count: 16384))])
        let board = try Board(host: host, key: Self.key, ramSize: 1 << 20)
        _ = try board.exchange(.start)
        #expect(try board.send(.status).0.result == 0)
        #expect(!String(decoding: board.console, as: UTF8.self).contains("fatal"))
    }

    /// A datagram whose UDP length claims more than the frame holds is dropped unanswered, and
    /// the board goes on serving. The firmware took the UDP length on trust: a LOAD claiming
    /// 65,515 data bytes read words past the receive buffers until a data bus error stopped the
    /// board ("fatal exception at 0x00000ef8"; the control fuzz target found it with the
    /// firmware's coverage). A length that fits the frame exactly is still taken.
    @Test func aUDPLengthLongerThanTheFrameIsDropped() throws {
        let host = BufferMemory([(physicalStart: 0, bytes: [UInt8](repeating: 1, count: 16384))])
        let board = try Board(host: host, key: Self.key)
        func frame(claiming udpLength: Int?) -> [UInt8] {
            let request = ControlMessage.request(.load, sequence: 1, argument: 0, data: [UInt8](repeating: 0xab, count: 16))
            let datagram = UDPFrame(sourceIP: [192, 168, 0, 14], destinationIP: UDPFrame.deviceIP, sourcePort: 40000,
                                    destinationPort: ControlMessage.port, payload: request)
            var bytes = datagram.ethernetFrame(from: UDPFrame.operatorMAC, to: UDPFrame.deviceMAC)
            if let udpLength { bytes[38] = UInt8(udpLength >> 8); bytes[39] = UInt8(udpLength & 0xff) }
            return bytes
        }
        #expect(frame(claiming: nil)[38...39] == [0, 8 + 16 + 16])     // the honest length: header, message, data
        for claim in [0xffff, 8 + 16 + 16 + 4, 8 + 16 + 16 + 1] {
            board.frames.removeAll()
            #expect(board.soc.ethernet.receive(frame(claiming: claim)))
            #expect(board.soc.run(budget: 5_000_000) == .asleep, "UDP length \(claim)")
            #expect(board.frames.isEmpty, "UDP length \(claim): answered")
        }
        #expect(!String(decoding: board.console, as: UTF8.self).contains("fatal"))
        board.frames.removeAll()
        #expect(board.soc.ethernet.receive(frame(claiming: 8 + 16 + 16)))
        #expect(board.soc.run(budget: 5_000_000) == .asleep)
        let answer = try ControlReply(payload: try UDPFrame(frame: try #require(board.frames.first)).payload)
        #expect(answer.result == 16)        // the next word goes after the 16 bytes loaded
        #expect(try board.send(.status).0.result == 0)
    }

    /// The control fuzz target's seeds sign their evidence requests with Python's hmac and
    /// hashlib (Fuzz/seed-control.py: HKDF-SHA256 by RFC 5869's two steps, then HMAC-SHA256)
    /// for the target's key (bytes 0-31) and boot nonce 1: the firmware takes the signed ones
    /// and refuses the one whose tag is zeros, so the two sides agree on the request tag.
    @Test func theFuzzSeedsSignedRequestsAreTaken() throws {
        let bytes = try [UInt8](Data(contentsOf: packageRoot.appendingPathComponent("Fuzz/corpus/control/evidence.bin")))
        var frames: [[UInt8]] = []
        var at = 0
        while at + 2 <= bytes.count {
            let length = Int(bytes[at]) << 8 | Int(bytes[at + 1])
            frames.append(Array(bytes[at + 2..<at + 2 + length]))
            at += 2 + length
        }
        let host = BufferMemory([(physicalStart: 0x8000, bytes: [UInt8](repeating: 7, count: 16384))])
        let board = try Board(host: host, key: try DeviceKey(bytes: (0..<32).map { UInt8($0) }), bootNonce: 1)
        var results: [UInt32] = []
        for frame in frames {
            board.frames.removeAll()
            #expect(board.soc.ethernet.receive(frame))
            #expect(board.soc.run(budget: 5_000_000) == .asleep)
            let answer = try UDPFrame(frame: try #require(board.frames.last)).payload
            results.append(answer[12..<16].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        }
        // MAP 0 and 5 (one range), READ in, misaligned, wrapped, DIGEST in, misaligned; READ
        // without its address (-1), READ with a zero tag (refused).
        #expect(results == [1, 1, 0, 2, 1, 0, 2, 0xffff_ffff, ControlMessage.refused])
    }
}
