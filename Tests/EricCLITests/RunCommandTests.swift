import AlertProtocol
import Capture
import Foundation
import Testing
import TestSupport

/// `eric run` on programs assembled by lm32as: host-call output, exit status, errors.
@Suite struct RunCommandTests {
    static let hello = """
        # write(1, message, 6); exit(length of the loop count)
            .global _start
        _start:
            mvi r1, 1
            mvhi r2, hi(message)
            ori r2, r2, lo(message)
            mvi r3, 6
            mvi r8, 5
            scall
            mvi r1, 0
            mvi r4, 1000
        1:  addi r1, r1, 1
            bne r1, r4, 1b
            mvi r8, 1
            scall
            .data
        message: .ascii "hello\\n"
        """

    func build(_ source: String, in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("p.S").path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        let assembled = try Run("lm32as", [path, "-o", "p.elf"], in: directory)
        #expect(assembled.status == 0, "\(assembled.stderr)")
        return directory.appendingPathComponent("p.elf").path
    }

    @Test func runsToExitWithOutputAndStatus() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let program = try build(Self.hello, in: directory)
        let run = try Run("eric", ["run", "--stats", program])
        #expect(run.stdout == "hello\n")
        #expect(run.status == Int32(1000 & 0xff))
        // 8 instructions before the loop (the write scall among them), 1000 x (addi, bne), mvi r8
        // and the exit scall.
        #expect(run.stderr.hasPrefix("eric: \(8 + 2000 + 2) instructions, "), "\(run.stderr)")
    }

    @Test func stopsWithClearErrors() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let looping = try build("_start: bi _start\n", in: directory)
        let budget = try Run("eric", ["run", "--max-instructions", "50", looping])
        #expect(budget.status == 2 && budget.stderr == "eric: error: stopped after 50 instructions (--max-instructions) at pc 0x0\n")
        let illegal = try build("_start: nop\n    .word 0x9c000000\n", in: directory)    // opcode 0x27: reserved
        let stopped = try Run("eric", ["run", illegal])
        #expect(stopped.status == 2 && stopped.stderr == "eric: error: illegal instruction 0x9c000000 at pc 0x4\n")
        let outside = try Run("lm32as", ["--text-address", "0x100000", directory.appendingPathComponent("p.S").path, "-o", "far.elf"], in: directory)
        #expect(outside.status == 0)
        let far = try Run("eric", ["run", "--ram-size", "64K", directory.appendingPathComponent("far.elf").path])
        #expect(far.status == 2 && far.stderr.contains("no memory at 0x100000"), "\(far.stderr)")
    }
}

/// `eric run DUMP`: the SoC boots the built-in firmware over the dump.
@Suite struct RunSoCTests {
    /// The whole console on the bundled example, byte for byte (Fixtures/soc/example.console;
    /// its alert lines and totals are the ones the tests below check against `eric scan`).
    @Test func consoleMatchesTheGoldenFile() throws {
        let run = try Run("eric", ["run", packageRoot.appendingPathComponent("Fixtures/dumps/example.raw").path])
        let golden = try Data(contentsOf: packageRoot.appendingPathComponent("Fixtures/soc/example.console"))
        #expect(run.stdoutBytes == golden, "\(run.stdout)")
    }

    /// --serial file:PATH and tcp::PORT carry the same console as standard output does.
    @Test(.timeLimit(.minutes(1)))
    func serialGoesToAFileOrATerminalClient() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dump = packageRoot.appendingPathComponent("Fixtures/dumps/example.raw").path
        let golden = try Data(contentsOf: packageRoot.appendingPathComponent("Fixtures/soc/example.console"))
        let file = directory.appendingPathComponent("console.txt").path
        let toFile = try Run("eric", ["run", "--serial", "file:" + file, dump])
        #expect(toFile.status == 1 && toFile.stdout.isEmpty)   // 1: the sweep raised alerts
        #expect(FileManager.default.contents(atPath: file) == golden)

        let server = try Server("eric", ["run", "--serial", "tcp::0", dump])
        let port = try #require(server.port, "\(server.announcement)")
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(connected == 0)
        let received = FileHandle(fileDescriptor: fd, closeOnDealloc: true).readDataToEndOfFile()
        server.process.waitUntilExit()
        #expect(received == golden && server.process.terminationStatus == 1)
    }

    @Test func firmwareConsoleAgreesWithTheDirectScan() throws {
        let dump = packageRoot.appendingPathComponent("Fixtures/dumps/example.raw").path
        let run = try Run("eric", ["run", dump])
        #expect(run.status == 1, "\(run.stderr)")     // the sweep raised alerts
        let lines = run.stdout.split(separator: "\r\n").map(String.init)
        #expect(lines.first == "ERIC firmware 1.0: integrity checker")
        let reported = lines.filter { $0.hasPrefix("ALERT page 0x") }
        let alerts = reported.filter { !$0.contains(" origin 0x") }
        let followUps = reported.filter { $0.hasSuffix(" origin 0x00000001") }
        // The direct scan of the same dump: the alerts its sweep raised (findings, candidates,
        // their operands and follow-up requests), its sweep's cycles (fetches + runs), and its
        // follow-ups' (the checker makes the same runs before the summary).
        let scan = try Run("eric", ["scan", "--jobs", "1", "--json", dump])
        let scanSummary = try #require(scan.stdout.split(separator: "\n").last)
        func number(_ key: String, in text: Substring) -> UInt64? {
            text.range(of: "\"\(key)\":").flatMap { UInt64(text[$0.upperBound...].prefix { $0.isNumber }) }
        }
        let raised = scanSummary.split(separator: "}").compactMap { number("alerts", in: $0) }.reduce(0, +)
        #expect(UInt64(alerts.count) == raised && !alerts.isEmpty, "\(alerts.count) alerts, \(raised) raised by the direct scan")
        for finding in scan.stdout.split(separator: "\n").filter({ $0.contains("\"type\":\"finding\"") }) {
            let page = try #require(number("page", in: finding))
            #expect(alerts.contains { $0.hasPrefix("ALERT page 0x" + String(format: "%016llx", page)) }, "\(finding)")
        }
        let followUpRuns = try #require(number("follow_up_runs", in: scanSummary))
        #expect(followUpRuns > 0 && UInt64(reported.count - alerts.count) >= followUpRuns)
        let cycles = try ["fetch_cycles", "mpu_cycles", "follow_up_fetch_cycles", "follow_up_cycles"].map { try #require(number($0, in: scanSummary)) }.reduce(0, +)
        let summary = try #require(lines.last)
        #expect(summary.contains(" mpu-cycles 0x" + String(format: "%016llx", cycles) + " "), "\(summary) vs \(scanSummary)")
        // Alerts: the sweep's and the follow-ups' (a follow-up run without one is not counted).
        #expect(summary.contains("alerts 0x" + String(format: "%08x", alerts.count + followUps.count)))
    }
}

/// `eric run --pcap`: the alert frames in a capture, read back through libpcap and by tshark.
@Suite struct CaptureTests {
    @Test func captureHoldsTheAlertsReproduciblyWithGoodChecksums() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dump = packageRoot.appendingPathComponent("Fixtures/dumps/example.raw").path
        let first = directory.appendingPathComponent("a.pcap").path, second = directory.appendingPathComponent("b.pcap").path
        let run = try Run("eric", ["run", "--pcap", first, dump])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(try Run("eric", ["run", "--pcap", second, dump]).status == 1)
        #expect(FileManager.default.contents(atPath: first) == FileManager.default.contents(atPath: second))   // byte for byte

        // Read back through libpcap: one record per console ALERT line, in order, then the summary.
        let capture = try readCapture(path: first)
        #expect(capture.damage == nil)
        let frames = capture.frames
        let records = try frames.map { try AlertRecord(payload: UDPFrame(frame: $0.frame).payload) }
        let alerts = run.stdout.split(separator: "\r\n").filter { $0.hasPrefix("ALERT ") }.map { $0.split(separator: " ") }
        #expect(records.count == alerts.count + 1 && records.last?.kind == .summary)
        for (record, fields) in zip(records, alerts) {
            #expect(record.kind == .alert)
            #expect(record.page == UInt64(fields[2].dropFirst(2), radix: 16) && UInt64(record.automaton) == UInt64(fields[4].dropFirst(2), radix: 16)
                && record.value == UInt64(fields[6].dropFirst(2), radix: 16))
        }
        // Time stamps: the simulated clock (12.5 ns per 80 MHz cycle, microsecond resolution),
        // after the record's own time stamp: the firmware reads TIME, then computes the
        // checksums and the bitwise CRC-32 (a few thousand instructions), then sends.
        for (frame, record) in zip(frames, records) {
            let stamp = Double(record.time) * 12.5
            #expect(Double(frame.nanoseconds) >= (stamp / 1000).rounded(.down) * 1000 && Double(frame.nanoseconds) <= stamp + 1_000_000,
                    "frame at \(frame.nanoseconds) ns, record time \(record.time) cycles")
        }
        #expect(frames.map(\.nanoseconds) == frames.map(\.nanoseconds).sorted())

        // tshark, an independent reader, validates every IPv4 and UDP checksum (1 = good).
        let tshark = try Run("/usr/bin/tshark", ["-r", first, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                                                 "-T", "fields", "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "udp.dstport"])
        let rows = tshark.stdout.split(separator: "\n")
        #expect(rows.count == frames.count && rows.allSatisfy { $0 == "1\t1\t17746" }, "\(tshark.stdout) \(tshark.stderr)")

        // With tools/wireshark/eric.lua loaded, tshark prints every field as our decoder reads it
        // (and prints nothing useful, failing this, when the dissector did not load).
        let dissector = packageRoot.appendingPathComponent("tools/wireshark/eric.lua").path
        let fields = ["sequence", "type", "automaton", "name", "value", "page", "cycles", "time", "runs", "origin", "faults"]
        let dissected = try Run("/usr/bin/tshark", ["-X", "lua_script:" + dissector, "-r", first, "-T", "fields"] + fields.flatMap { ["-e", "eric." + $0] })
        let expected = records.map { r in
            ["\(r.sequence)", "\(r.kind.rawValue)", "\(r.automaton)", "\(r.nameID)", String(format: "0x%016llx", r.value), String(format: "0x%016llx", r.page),
             "\(r.mpuCycles)", "\(r.time)", r.kind == .summary ? "\(r.runs)" : "", r.kind == .alert ? "\(r.runs)" : "", "\(r.faults)"].joined(separator: "\t")
        }
        #expect(dissected.stdout.split(separator: "\n").map(String.init) == expected, "\(dissected.stderr)")
    }
}

/// `eric listen`: a live UDP round trip on loopback, and the same records from a capture.
@Suite struct ListenTests {
    @Test(.timeLimit(.minutes(1)))
    func udpRoundTripMatchesTheCaptureAndTheScan() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dump = packageRoot.appendingPathComponent("Fixtures/dumps/example.raw").path
        let listener = try Server("eric", ["listen", "--json", "udp://127.0.0.1:0"])
        let port = try #require(listener.port, "\(listener.announcement)")
        let capture = directory.appendingPathComponent("a.pcap").path
        let run = try Run("eric", ["run", "--alerts", "udp://127.0.0.1:\(port)", "--pcap", capture, dump])
        #expect(run.status == 1 && run.stderr.isEmpty, "\(run.stderr)")
        let received = String(decoding: listener.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        listener.process.waitUntilExit()
        #expect(listener.process.terminationStatus == 0)                       // it stopped after the summary
        let fromCapture = try Run("eric", ["listen", "--json", capture]).stdout
        #expect(received == fromCapture && !received.isEmpty)
        // The alerts are what the direct scan's sweep raised (as many), and each of its findings
        // is one of them: same automaton, name, page, value and MPU cycle.
        let lines = try Run("eric", ["scan", "--jobs", "1", "--json", dump]).stdout.split(separator: "\n")
        let scan = lines.filter { $0.contains("\"type\":\"finding\"") }
        let alerts = received.split(separator: "\n").filter { $0.contains("\"type\":\"alert\"") && $0.contains("\"origin\":\"sweep\"") }
        #expect(received.contains("\"origin\":\"follow-up\""))
        func field(_ line: Substring, _ name: String) -> Substring? {
            guard let range = line.range(of: "\"\(name)\":") else { return nil }
            return line[range.upperBound...].prefix { $0 != "," && $0 != "}" }
        }
        let raised = try #require(lines.last).split(separator: "}").compactMap { field($0, "alerts").flatMap { Int($0) } }.reduce(0, +)
        #expect(alerts.count == raised && !scan.isEmpty)
        for finding in scan {
            #expect(alerts.contains { alert in
                ["automaton", "name", "page", "value"].allSatisfy { field(alert, $0) == field(finding, $0) } && field(alert, "mpu_cycle") == field(finding, "cycle")
            }, "\(finding)")
        }
        #expect(received.split(separator: "\n").last?.contains("\"type\":\"summary\"") == true)
    }
}

/// `eric scan --soc`: the firmware-driven scan finds exactly what the direct scan finds.
@Suite struct ScanSoCTests {
    /// The fields both scans report for a finding.
    static func findings(_ jsonLines: String) -> [String] {
        jsonLines.split(separator: "\n").filter { $0.contains("\"type\":\"finding\"") }.map { line in
            ["automaton", "name", "page", "value", "cycle"].map { key -> String in
                guard let range = line.range(of: "\"\(key)\":") else { return "-" }
                return String(line[range.upperBound...].prefix { $0 != "," && $0 != "}" })
            }.joined(separator: " ")
        }
    }

    @Test func findingsAreIdenticalOnEveryFixtureFormat() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var dumps = [packageRoot.appendingPathComponent("Fixtures/dumps/example.raw").path]
        for format in ["lime", "elf"] {
            let path = directory.appendingPathComponent("guest.\(format)").path
            #expect(try Run("eric", ["synth", "--seed", "31", "--size", "3M", "--format", format, "-o", path]).status == 0)
            dumps.append(path)
        }
        for dump in dumps {
            let direct = try Run("eric", ["scan", "--jobs", "1", "--json", dump])
            let soc = try Run("eric", ["scan", "--soc", "--json", dump])
            #expect(soc.status == direct.status && soc.status == 1, "\(soc.stderr)")
            let expected = Self.findings(direct.stdout)
            #expect(!expected.isEmpty && Self.findings(soc.stdout) == expected, "\(dump)")
            // The summary: the same MPU work, and the LM32's own cycles on top.
            let directSummary = try #require(direct.stdout.split(separator: "\n").last)
            let socSummary = try #require(soc.stdout.split(separator: "\n").last)
            func number(_ line: Substring, _ key: String) -> UInt64? {
                line.range(of: "\"\(key)\":").flatMap { UInt64(line[$0.upperBound...].prefix { $0.isNumber }) }
            }
            let directCycles = try #require(number(directSummary, "device_cycles"))
            #expect(number(socSummary, "mpu_cycles") == number(directSummary, "mpu_cycles"))       // the automata
            #expect(number(socSummary, "fetch_cycles") == number(directSummary, "fetch_cycles"))   // PCIe
            #expect(try #require(number(socSummary, "lm32_cycles")) > directCycles)
        }
    }

    /// A dump that ends inside a page: the SoC cannot scan the tail, and says so as the direct
    /// scan does (5,000 bytes: one whole page, 904 bytes outside it).
    @Test func bytesOutsideWholePagesAreReported() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let whole = try Data(contentsOf: packageRoot.appendingPathComponent("Fixtures/dumps/example.raw"))
        let path = directory.appendingPathComponent("short.raw").path
        try whole.prefix(5000).write(to: URL(fileURLWithPath: path))
        for mode in [["--soc"], ["--jobs", "1"]] {
            let run = try Run("eric", ["scan"] + mode + ["--json", path])
            let summary = try #require(run.stdout.split(separator: "\n").last)
            #expect(summary.contains("\"skipped_bytes\":904") && summary.contains("\"pages\":1"), "\(mode): \(summary)")
            let text = try Run("eric", ["scan"] + mode + [path])
            #expect(text.stdout.contains("; 904 bytes outside whole pages not scanned"), "\(mode)")
        }
    }
}

/// Bad inputs to the SoC commands: one line naming the file and what is wrong, status 2.
@Suite struct SoCInputErrorTests {
    @Test func badInputsGetOneLineErrors() throws {
        let readme = packageRoot.appendingPathComponent("README.md").path
        let dump = packageRoot.appendingPathComponent("Fixtures/dumps/example.raw").path
        let cases: [([String], String)] = [
            (["run", "/nonexistent/dump.raw"], "/nonexistent/dump.raw: error: cannot open dump: No such file or directory\n"),
            (["listen", readme], "eric: error: \(readme): not a readable pcap capture (libpcap: unknown file format)\n"),
            (["run", "--pcap", "/nonexistent/x.pcap", dump], "eric: error: --pcap: /nonexistent/x.pcap: No such file or directory\n"),
            (["run", "--firmware", readme, dump], "\(readme): error: byte 0: not an ELF file (expected \\x7fELF)\n"),
            (["listen", "udp://nohost:1"], "eric: error: 'nohost' is not an IPv4 address\n"),
            (["run", "--serial", "serial0", dump], "eric: error: --serial: expected stdio, file:PATH or tcp::PORT, found 'serial0'\n"),
        ]
        for (arguments, message) in cases {
            let run = try Run("eric", arguments)
            #expect(run.status == 2 && run.stderr == message, "\(arguments): \(run.stderr)")
        }
    }
}
