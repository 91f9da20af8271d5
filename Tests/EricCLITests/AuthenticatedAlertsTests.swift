import AlertProtocol
import Capture
import Foundation
import Testing
import TestSupport

/// Authenticated alert records (docs/protocol.md, "Authenticated records"): a board with a key
/// tags every record; `eric listen --key` reports what was forged, replayed, late or missing.
@Suite struct AuthenticatedAlertsTests {
    static let bootNonce: UInt64 = 0x0123_4567_89ab_cdef

    /// The record payloads of a keyed board's sweep of the example dump, from its capture.
    static func keyedSweep(key: String, in directory: URL) throws -> (payloads: [[UInt8]], capture: String) {
        let capture = directory.appendingPathComponent("keyed.pcap").path
        let run = try Run("eric", ["run", "--key", key, "--boot-nonce", "0123456789abcdef", "--pcap", capture, "Fixtures/dumps/example.raw"])
        #expect(run.status == 1, "\(run.stderr)")
        let frames = try readCapture(path: capture).frames
        return (try frames.map { try UDPFrame(frame: $0.frame).payload }, capture)
    }

    /// Python's hmac and hashlib (HKDF-SHA256 by RFC 5869's two steps, then HMAC-SHA256), not
    /// swift-crypto: the tag each payload should carry, worked out independently.
    static func pythonTags(key: String, payloads: [[UInt8]], in directory: URL) throws -> [String] {
        let file = directory.appendingPathComponent("payloads.hex")
        try payloads.map { $0.map { String(format: "%02x", $0) }.joined() }.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let script = """
            import hmac, hashlib, sys
            lines = [l.strip() for l in open(sys.argv[1]) if l.strip() and not l.startswith('#')]
            prk = hmac.new(b"ERIC device key", bytes.fromhex(lines[1]), hashlib.sha256).digest()
            key = hmac.new(prk, b"alert records" + bytes([1]), hashlib.sha256).digest()
            for line in open(sys.argv[2]):
                p = bytes.fromhex(line.strip())
                print(hmac.new(key, p[56:64] + p[:56], hashlib.sha256).hexdigest()[:32])
            """
        let python = try Run("/usr/bin/python3", ["-c", script, key, file.path])
        #expect(python.status == 0, "\(python.stderr)")
        return python.stdout.split(separator: "\n").map(String.init)
    }

    @Test func aKeyedBoardTagsEveryRecordAsAnIndependentHMACComputesIt() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("board.key").path
        #expect(try Run("eric", ["keygen", "-o", key]).status == 0)
        let (payloads, capture) = try Self.keyedSweep(key: key, in: directory)
        let records = try payloads.map { try AlertRecord(payload: $0) }
        #expect(records.count == 118 && records.last?.kind == .summary)
        #expect(payloads.allSatisfy { $0.count == 80 && $0[4] == 2 })
        #expect(records.allSatisfy { $0.authentication?.bootNonce == Self.bootNonce })
        #expect(records.map(\.sequence) == Array(0..<118))
        let tags = records.map { $0.authentication!.tag.map { String(format: "%02x", $0) }.joined() }
        #expect(try Self.pythonTags(key: key, payloads: payloads, in: directory) == tags)

        // The same alerts as a board without a key (only the version byte, the lengths and the
        // time stamps differ: tagging costs the LM32 cycles).
        let plainCapture = directory.appendingPathComponent("plain.pcap").path
        #expect(try Run("eric", ["run", "--pcap", plainCapture, "Fixtures/dumps/example.raw"]).status == 1)
        let plain = try readCapture(path: plainCapture).frames.map { try AlertRecord(payload: UDPFrame(frame: $0.frame).payload) }
        func content(_ r: AlertRecord) -> [UInt64] { [UInt64(r.sequence), UInt64(r.automaton), UInt64(r.nameID), r.value, r.page, r.mpuCycles, UInt64(r.runs)] }
        #expect(plain.map(content) == records.map(content))
        #expect(plain.allSatisfy { $0.authentication == nil })

        // tshark (its own IPv4 and UDP checksum checks: status 1, good) with the dissector shows the trailer.
        let tshark = try Run("/usr/bin/tshark", ["-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-X", "lua_script:tools/wireshark/eric.lua",
                                                 "-r", capture, "-T", "fields", "-e", "eric.version", "-e", "eric.boot_nonce", "-e", "eric.tag",
                                                 "-e", "udp.checksum.status", "-e", "ip.checksum.status"])
        let rows = tshark.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(rows.count == 118, "\(tshark.stderr)")
        #expect(zip(rows, tags).allSatisfy { $0.0 == ["2", "0x0123456789abcdef", $0.1, "1", "1"] }, "\(rows.first ?? [])")

        // A clean capture passes the audit: every record shown, authenticated, exit 0.
        let listened = try Run("eric", ["listen", "--key", key, "--json", capture])
        #expect(listened.status == 0 && listened.stderr.isEmpty, "\(listened.stderr)")
        let lines = listened.stdout.split(separator: "\n")
        #expect(lines.count == 118 && lines.allSatisfy { $0.contains("\"authenticated\":true") })
        // A capture cut before the summary: the sweep's end is missing.
        let cut = directory.appendingPathComponent("cut.pcap")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: capture))
        try bytes.prefix(bytes.count - (16 + 14 + 108)).write(to: cut)
        let unended = try Run("eric", ["listen", "--key", key, cut.path])
        #expect(unended.status == 1 && unended.stdout.hasSuffix(
            "MISSING the summary of boot 0x0123456789abcdef (device 0): nothing after record #116 arrived\n"), "\(unended.stdout.suffix(200))")
        // Without the key, the records are shown and the listener says they were not checked.
        let unchecked = try Run("eric", ["listen", capture])
        #expect(unchecked.status == 0 && unchecked.stdout.split(separator: "\n").count == 118
                && unchecked.stderr == "eric: note: 118 records carry tags (a board with a key); give --key to verify them\n")
        // Another board's key: every record is forged.
        let other = directory.appendingPathComponent("other.key").path
        #expect(try Run("eric", ["keygen", "-o", other]).status == 0)
        let wrong = try Run("eric", ["listen", "--key", other, capture])
        #expect(wrong.status == 1 && wrong.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("FORGED record claiming #") }
                && wrong.stderr == "eric: the records do not hold: 118 forged, 0 replayed, 0 missing (see above)\n", "\(wrong.stderr)")
    }

    @Test func aBootNonceIsSixteenHexDigitsAtMostAndNeedsAKey() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("board.key").path
        #expect(try Run("eric", ["keygen", "-o", key]).status == 0)
        for (arguments, message) in [(["--key", key, "--boot-nonce", "zz"], "--boot-nonce 'zz': expected 1 to 16 hexadecimal digits"),
                                     (["--key", key, "--boot-nonce", "12345678901234567"], "--boot-nonce '12345678901234567': expected 1 to 16 hexadecimal digits"),
                                     (["--boot-nonce", "1"], "--boot-nonce needs --key (a board without a key authenticates nothing)")] {
            let run = try Run("eric", ["run"] + arguments + ["Fixtures/dumps/example.raw"])
            #expect(run.status == 2 && run.stderr == "eric: error: \(message)\n" && run.stdout.isEmpty, "\(run.stderr)")
        }
        let listen = try Run("eric", ["listen", "--key", directory.appendingPathComponent("none.key").path, "x.pcap"])
        #expect(listen.status == 2 && listen.stderr.hasSuffix("none.key: error: cannot read the key file: No such file or directory\n"), "\(listen.stderr)")
    }

    @Test func recordsForgedReplayedDroppedAndReorderedOnTheWayAreEachReported() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("board.key").path
        #expect(try Run("eric", ["keygen", "-o", key]).status == 0)
        let payloads = try Self.keyedSweep(key: key, in: directory).payloads
        let listener = try Server("eric", ["listen", "--key", key, "--json", "udp://127.0.0.1:0"])
        defer { if listener.process.isRunning { kill(listener.process.processIdentifier, SIGKILL) } }
        let port = try #require(listener.port, "\(listener.announcement)")
        let wire = try UDPSocket(sendingTo: "127.0.0.1", port: UInt16(port))

        // #3 replaced on the way: its value changed, its tag kept.
        var changed = payloads[3]
        changed[23] ^= 1
        // #5's value changed and tagged again under a key that is not the board's.
        var retagged = try AlertRecord(payload: payloads[5])
        retagged.value ^= 0x1000
        let attackerTag = [UInt8](repeating: 0x5a, count: 16)
        retagged.authentication?.tag = attackerTag
        // #20 sent again as a version-1 record (no trailer) saying something else.
        var unauthenticated = try AlertRecord(payload: payloads[20])
        unauthenticated.authentication = nil
        unauthenticated.value = 0x30
        var order: [[UInt8]] = Array(payloads[0...2]) + [changed, payloads[4], payloads[5], retagged.bytes, payloads[6], payloads[5]]
        order += [payloads[9], payloads[11], payloads[10]]                        // #7 and #8 dropped; #10 after #11
        order += Array(payloads[12...19]) + [unauthenticated.bytes] + Array(payloads[20...])
        for datagram in order {
            #expect(wire.send(datagram))
            usleep(200)
        }
        let output = String(decoding: listener.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: listener.errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        listener.process.waitUntilExit()
        #expect(listener.process.terminationStatus == 1)
        #expect(errors == "eric: the records do not hold: 3 forged, 1 replayed, 3 missing (see above)\n", "\(errors)")
        let lines = output.split(separator: "\n").map(String.init)
        let problems = lines.filter { !$0.contains("\"authenticated\":true") }
        #expect(problems == [
            #"{"device":0,"reason":"its tag does not hold","sequence":3,"type":"forged"}"#,
            #"{"device":0,"reason":"its tag does not hold","sequence":5,"type":"forged"}"#,
            #"{"boot":"0x0123456789abcdef","device":0,"sequence":5,"type":"replayed"}"#,
            #"{"after":11,"device":0,"reported_missing":false,"sequence":10,"type":"late"}"#,
            #"{"device":0,"reason":"not authenticated (a version-1 record)","sequence":20,"type":"forged"}"#,
            #"{"boot":"0x0123456789abcdef","device":0,"first":3,"last":3,"type":"missing"}"#,
            #"{"boot":"0x0123456789abcdef","device":0,"first":7,"last":8,"type":"missing"}"#,
        ], "\(problems)")
        // Every genuine record is shown once, with its true value; nothing forged is.
        let shown = lines.filter { $0.contains("\"authenticated\":true") }.compactMap { line -> UInt32? in
            guard let data = line.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return (object["sequence"] as? NSNumber)?.uint32Value
        }
        #expect(shown == [0, 1, 2, 4, 5, 6, 9, 11, 10] + Array(12...117))
        #expect(!lines.contains { $0.contains("\"value\":48,") && $0.contains("\"sequence\":20,") })
    }
}
