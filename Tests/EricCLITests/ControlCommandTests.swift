import AlertProtocol
import Capture
import Foundation
import Testing
import TestSupport

/// eric run --control and eric push over loopback UDP (docs/protocol.md, "Control").
@Suite struct ControlCommandTests {
    struct Seen: Hashable { var page: UInt64, automaton: UInt16, name: UInt16, value: UInt64, origin: UInt32 }

    /// The records a board sends to `collector` until its summary.
    static func records(from collector: UDPSocket) -> [AlertRecord] {
        var records: [AlertRecord] = []
        while let (bytes, _) = collector.receive(waiting: 60_000), let record = try? AlertRecord(payload: bytes) {
            records.append(record)
            if record.kind == .summary { break }
        }
        return records
    }

    static func seen(_ records: [AlertRecord]) -> Set<Seen> {
        Set(records.filter { $0.kind == .alert }.map { Seen(page: $0.page, automaton: $0.automaton, name: $0.nameID, value: $0.value, origin: $0.runs) })
    }

    @Test func aPushedSealedSetFindsWhatTheBuiltInSetFindsAndBadBundlesAreRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("board.key").path
        let bundle = directory.appendingPathComponent("set2.bundle").path
        #expect(try Run("eric", ["keygen", "-o", key]).status == 0)
        #expect(try Run("eric", ["seal", "--key", key, "--version", "2", "-o", bundle]).status == 0)

        // The built-in set from ROM, the usual way: the reference.
        let reference = try UDPSocket(listeningOn: "127.0.0.1", port: 0)
        let plain = try Run("eric", ["run", "--alerts", "udp://127.0.0.1:\(reference.port)", "Fixtures/dumps/example.raw"])
        #expect(plain.status == 1, "\(plain.stderr)")
        let expected = Self.seen(Self.records(from: reference))

        let collector = try UDPSocket(listeningOn: "127.0.0.1", port: 0)
        let capture = directory.appendingPathComponent("board.pcap").path
        let board = try Server("eric", ["run", "--control", "udp://127.0.0.1:0", "--key", key, "--alerts", "udp://127.0.0.1:\(collector.port)",
                                        "--pcap", capture, "Fixtures/dumps/example.raw"])
        defer { if board.process.isRunning { kill(board.process.processIdentifier, SIGKILL) } }
        let url = "udp://127.0.0.1:\(try #require(board.port, "\(board.announcement)"))"

        let pushed = try Run("eric", ["push", bundle, url, "--start"])
        #expect(pushed.status == 0 && pushed.stdout == "\(bundle): installed: set version 2\nsweep started\n", "\(pushed.stdout)\(pushed.stderr)")
        let sealedRun = Self.records(from: collector)
        #expect(sealedRun.last?.kind == .summary && !expected.isEmpty && Self.seen(sealedRun) == expected)

        // The same bundle again (not newer), and one changed on the way: refused, status 1.
        let again = try Run("eric", ["push", bundle, url])
        #expect(again.status == 1 && again.stdout.contains("refused: version not newer than the loaded one; the board keeps set version 2"))
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: bundle)))
        bytes[12] = 0; bytes[13] = 0; bytes[14] = 0; bytes[15] = 9   // version 9, without sealing it again
        let forged = directory.appendingPathComponent("forged.bundle")
        try Data(bytes).write(to: forged)
        let refused = try Run("eric", ["push", forged.path, url])
        #expect(refused.status == 1 && refused.stdout.contains("refused: the bundle's tag does not hold"), "\(refused.stdout)")
        #expect(try Run("eric", ["push", url]).stdout == "set version 2\n")
        // With the key, a forged bundle is caught before anything is sent; another board's too.
        let checked = try Run("eric", ["push", "--key", key, forged.path, url])
        #expect(checked.status == 2 && checked.stderr.contains("the bundle's tag does not hold") && checked.stderr.contains("nothing sent"), "\(checked.stderr)")
        let otherKey = directory.appendingPathComponent("other.key").path
        #expect(try Run("eric", ["keygen", "-o", otherKey]).status == 0)
        let mismatch = try Run("eric", ["push", "--key", otherKey, bundle, url])
        #expect(mismatch.status == 2 && mismatch.stderr.contains("sealed for another device key"), "\(mismatch.stderr)")

        // The execution mode: word access (a PCIe read per load) finds the same, in more MPU cycles.
        let word = try Run("eric", ["push", url, "--host-access", "word", "--start"])
        #expect(word.status == 0 && word.stdout == "host access: word\nsweep started\n", "\(word.stdout)\(word.stderr)")
        let wordRun = Self.records(from: collector)
        #expect(Self.seen(wordRun) == expected && wordRun.last!.mpuCycles > 2 * sealedRun.last!.mpuCycles)
        // A mode that is not one is refused (0xffffffff) and changes nothing.
        let operatorSocket = try UDPSocket(sendingTo: "127.0.0.1", port: UInt16(try #require(board.port)))
        #expect(operatorSocket.send(ControlMessage.request(.mode, sequence: 77, argument: 2)))
        let refusedMode = try ControlReply(payload: try #require(operatorSocket.receive(waiting: 10_000)).bytes)
        #expect(refusedMode.kind == .mode && refusedMode.sequence == 77 && refusedMode.result == 0xffff_ffff)

        let off = try Run("eric", ["push", url, "--shutdown"])
        #expect(off.status == 0 && off.stdout == "board powered off\n")
        board.process.waitUntilExit()
        #expect(board.process.terminationStatus == 1)                  // its last sweep found alerts

        // The capture holds both directions; tshark with tools/wireshark/eric.lua reads them:
        // the bundle's 4 LOADs of 1,024 bytes or less and a COMMIT, three times (installed, not
        // newer, tag), START, STATUS, SHUTDOWN, each answered; and the sweep's records.
        let dissector = packageRoot.appendingPathComponent("tools/wireshark/eric.lua").path
        let tshark = try Run("/usr/bin/tshark", ["-X", "lua_script:" + dissector, "-r", capture, "-T", "fields",
                                                 "-e", "eric_control.type", "-e", "eric_control.result", "-e", "eric.type"])
        let rows = tshark.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        let control = rows.filter { !$0.hasPrefix("\t\t") }
        let size = (try [UInt8](Data(contentsOf: URL(fileURLWithPath: bundle)))).count
        let padded = (size + 3) / 4 * 4
        // Each LOAD is answered with where the next byte goes; COMMIT with the checker's result.
        func commit(_ result: Int) -> [String] {
            stride(from: 0, to: padded, by: 1024).flatMap { ["0x10\t\t", "0x90\t\(min(padded, $0 + 1024))\t"] } + ["0x11\t\t", "0x91\t\(result)\t"]
        }
        #expect(control == commit(0) + ["0x12\t\t", "0x92\t0\t"] + commit(4) + commit(3) + ["0x14\t\t", "0x94\t2\t", "0x15\t\t", "0x95\t1\t", "0x12\t\t", "0x92\t0\t",
                                                                                   "0x15\t\t", "0x95\t4294967295\t", "0x13\t\t", "0x93\t0\t"],
                "\(tshark.stdout)\(tshark.stderr)")
        #expect(rows.filter { $0.hasPrefix("\t\t") }.count == sealedRun.count + wordRun.count)
        // eric listen shows the records and counts the control frames aside.
        let listened = try Run("eric", ["listen", capture])
        #expect(listened.status == 0 && listened.stdout.split(separator: "\n").count == sealedRun.count + wordRun.count
                && listened.stderr.contains("\(control.count) control-channel frame(s) (UDP port 17747)"), "\(listened.stderr)")

        // No board there: a clear error, not a hang.
        let nobody = try Run("eric", ["push", url, "--timeout", "200", "--tries", "2"])
        #expect(nobody.status == 2 && nobody.stderr.contains("no answer to status after 2 tries of 200 ms"), "\(nobody.stderr)")
    }
}
