import Foundation
import Testing
import TestSupport

/// `eric listen --syslog`: records forwarded as RFC 5424 messages to a real rsyslog, started
/// here on loopback, which parses them (facility, severity, app name, message id, structured
/// data) and writes what it understood.
@Suite(.serialized) struct SyslogTests {
    static let rsyslogd = "/usr/sbin/rsyslogd"

    /// A port nothing listens on now (TCP and UDP alike), from the system.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test(.timeLimit(.minutes(1))) func rsyslogReceivesEveryRecordOverUDPAndTCP() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.rsyslogd) else {
            #expect(ProcessInfo.processInfo.environment["ERIC_REQUIRE_LAB"] != "1", "no \(Self.rsyslogd) (scripts/setup.sh installs rsyslog)")
            return
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dump = packageRoot.appendingPathComponent("Fixtures/dumps/example.raw").path
        let capture = directory.appendingPathComponent("alerts.pcap").path
        _ = try Run("eric", ["run", "--pcap", capture, dump])
        let expected = try Run("eric", ["listen", capture]).stdout.split(separator: "\n").map(String.init)
        #expect(expected.count == 118)
        for transport in ["udp", "tcp"] {
            let port = Self.freePort()
            let log = directory.appendingPathComponent("\(transport).log").path
            let config = directory.appendingPathComponent("\(transport).conf").path
            try """
                global(workDirectory="\(directory.path)")
                module(load="im\(transport)")
                input(type="im\(transport)" port="\(port)" address="127.0.0.1")
                template(name="parsed" type="string" string="%syslogfacility-text%.%syslogseverity-text% %app-name% %msgid% %structured-data% %msg%\\n")
                action(type="omfile" file="\(log)" template="parsed")
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let daemon = Process()
            daemon.executableURL = URL(fileURLWithPath: Self.rsyslogd)
            daemon.arguments = ["-n", "-f", config, "-i", directory.appendingPathComponent("\(transport).pid").path]
            daemon.standardOutput = FileHandle.nullDevice
            daemon.standardError = FileHandle.nullDevice
            try daemon.run()
            defer { kill(daemon.processIdentifier, SIGKILL); daemon.waitUntilExit() }
            Thread.sleep(forTimeInterval: 1.5)        // until it listens
            let run = try Run("eric", ["listen", "--syslog", "\(transport)://127.0.0.1:\(port)", capture])
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
            var lines: [String] = []
            for _ in 0..<40 where lines.count < expected.count {
                Thread.sleep(forTimeInterval: 0.25)
                lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            }
            #expect(lines.count == expected.count, "\(transport): \(lines.count) of \(expected.count) messages")
            // The text of each message is what `eric listen` prints; its parts are rsyslog's reading.
            for (got, want) in zip(lines, expected) {
                #expect(got.hasSuffix("] " + want), "\(transport): \(got)")
            }
            #expect(lines.first?.hasPrefix("local0.warning eric alert [eric@32473 device=\"0\" sequence=\"0\" automaton=\"idt\" page=\"0x8000\" value=\"0x30\" origin=\"sweep\"]") == true, "\(lines.first ?? "")")
            #expect(lines.last?.hasPrefix("local0.info eric summary [eric@32473 device=\"0\" sequence=\"117\" alerts=\"117\" pages=\"320\"") == true, "\(lines.last ?? "")")
            guard transport == "udp" else { continue }
            // A keyed board's capture with record #3 taken out: the audit's finding reaches the
            // collector as an error, after the genuine records.
            let key = directory.appendingPathComponent("board.key").path
            let keyed = directory.appendingPathComponent("keyed.pcap").path
            #expect(try Run("eric", ["keygen", "-o", key]).status == 0)
            _ = try Run("eric", ["run", "--key", key, "--boot-nonce", "7", "--pcap", keyed, dump])
            let bytes = try Data(contentsOf: URL(fileURLWithPath: keyed))
            let record = 16 + 14 + 108                 // pcap record header, Ethernet, the IPv4 packet
            try (bytes.prefix(24 + 3 * record) + bytes.dropFirst(24 + 4 * record)).write(to: URL(fileURLWithPath: keyed))
            let audited = try Run("eric", ["listen", "--key", key, "--syslog", "udp://127.0.0.1:\(port)", keyed])
            #expect(audited.status == 1, "\(audited.stderr)")
            let missing = "local0.err eric missing [eric@32473 boot=\"0x0000000000000007\" device=\"0\" first=\"3\" last=\"3\"] MISSING record #3"
            var found = false
            for _ in 0..<40 where !found {
                Thread.sleep(forTimeInterval: 0.25)
                found = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(missing)
            }
            #expect(found, "\((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(400) ?? "")")
        }
    }

    @Test func aBadCollectorIsAnError() throws {
        let run = try Run("eric", ["listen", "--syslog", "http://x:1", "Fixtures/dumps/example.raw"])
        #expect(run.status == 2 && run.stderr == "eric: error: --syslog expected udp://HOST:PORT or tcp://HOST:PORT, found 'http://x:1'\n", "\(run.stderr)")
    }
}
