import AlertProtocol
import EricSoC
import ArgumentParser
import CLISupport
import Capture
import Foundation
import MPUSim

struct Listen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Receive ERIC alerts (docs/protocol.md) over UDP, or read them from a pcap capture, and print them.",
        discussion: """
            From udp://HOST:PORT it prints each record as it arrives and stops after a scan's \
            summary record (--keep-going: never). From a pcap file it prints every record in it. \
            Automaton and alert names come from the shipped automata, in the order `eric run` \
            loads them.
              eric listen udp://127.0.0.1:17746             (first; then, elsewhere:)
              eric run --alerts udp://127.0.0.1:17746 dump.raw
              eric listen --json alerts.pcap
            """)

    @Argument(help: "udp://HOST:PORT to listen on (port 0: any free port, printed on standard error), or a pcap file.")
    var source: String

    @Flag(help: "Write JSON Lines instead of text.")
    var json = false

    @Flag(help: "Over UDP, keep listening after a summary record.")
    var keepGoing = false

    @Option(help: ArgumentHelp("Also forward every record to a syslog collector (RFC 5424; rsyslog, syslog-ng): udp://HOST:PORT or tcp://HOST:PORT.", valueName: "url"))
    var syslog: String?

    func run() throws {
        var sink: SyslogSink?
        if let syslog {
            do { sink = try SyslogSink(url: syslog) } catch { Console.fail("eric: error: --syslog \(error)", code: 2) }
        }
        defer {
            if let sink, sink.failures > 0 { Console.error("eric: warning: \(sink.failures) records could not be sent to \(syslog ?? "")") }
        }
        // Records name automata by the checker's slot: the shipped ones in the order eric installs them.
        let automata = SoC.slotOrder(shippedAutomata())
        if source.hasPrefix("udp://") {
            let socket: UDPSocket
            do {
                let (host, port) = try UDPSocket.parse(source)
                socket = try UDPSocket(listeningOn: host, port: port)
                Console.error("eric: listening on udp://\(host):\(socket.port)")
            } catch { Console.fail("eric: error: \(error)", code: 2) }
            while let datagram = socket.receive() {
                do {
                    let record = try AlertRecord(payload: datagram)
                    Console.write(line(record, automata))
                    sink.map { forward(record, automata, to: $0) }
                    if record.kind == .summary && !keepGoing { return }
                } catch {
                    Console.error("eric: warning: a datagram of \(datagram.count) bytes is not an ERIC record: \(error)")
                }
            }
        } else {
            let capture: Capture
            do { capture = try readCapture(path: source) } catch { Console.fail("eric: error: \(error)", code: 2) }
            var out = ""
            var control = 0
            for (index, frame) in capture.frames.enumerated() {
                do {
                    let udp = try UDPFrame(frame: frame.frame)
                    // The control channel's messages and answers (eric run --control --pcap): not
                    // records; counted, and tshark with the dissector shows them.
                    if udp.sourcePort == ControlMessage.port || udp.destinationPort == ControlMessage.port {
                        control += 1
                        continue
                    }
                    let record = try AlertRecord(payload: udp.payload)
                    out += line(record, automata)
                    sink.map { forward(record, automata, to: $0) }
                } catch {
                    Console.error("\(source): warning: frame \(index + 1) is not an ERIC record: \(error)")
                }
            }
            Console.write(out)
            if control > 0 { Console.error("\(source): \(control) control-channel frame(s) (UDP port \(ControlMessage.port)) are not alert records; tshark with tools/wireshark/eric.lua shows them") }
            // The good records are out; the damage still makes the exit status an error.
            if let damage = capture.damage { Console.fail("\(source): error: \(damage) (the \(capture.frames.count) frames before it are shown)", code: 2) }
        }
    }

    func line(_ record: AlertRecord, _ automata: [Automaton]) -> String { Self.line(record, automata, json: json) }

    static func line(_ record: AlertRecord, _ automata: [Automaton], json: Bool) -> String {
        let automaton = Int(record.automaton) < automata.count ? automata[Int(record.automaton)] : nil
        let alerts = automaton?.metadata.alerts ?? []
        let name = Int(record.nameID) < alerts.count ? alerts[Int(record.nameID)].name : nil
        if json {
            let alert = record.kind == .alert
            return JSONLine.encode(RecordLine(type: alert ? "alert" : "summary", sequence: record.sequence, device: record.deviceID, device_cycles: record.time,
                                              automaton: alert ? automaton?.name ?? String(record.automaton) : nil, name: alert ? name : nil,
                                              value: alert ? record.value : nil, page: alert ? record.page : nil, mpu_cycle: alert ? record.mpuCycles : nil,
                                              origin: alert ? Self.originName(record) : nil,
                                              alerts: alert ? nil : record.value, pages: alert ? nil : record.page, runs: alert ? nil : record.runs,
                                              faults: alert ? nil : record.faults, mpu_cycles: alert ? nil : record.mpuCycles))
        }
        if record.kind == .summary {
            return "summary #\(record.sequence): \(record.value) alerts, \(record.page) pages, \(record.runs) runs, \(record.faults) faults, \(record.mpuCycles) MPU cycles\n"
        }
        let what = automaton?.name ?? "automaton \(record.automaton)"
        switch record.origin {
        case .followUpRun?:
            return "run #\(record.sequence): page \(hex(record.page)) \(what) (follow-up): no alert\n"
        case .followUp?:
            return "alert #\(record.sequence): page \(hex(record.page)) \(what) \(name ?? "unnamed") (\(hex(record.value, 2))) (follow-up)\n"
        default:
            return "alert #\(record.sequence): page \(hex(record.page)) \(what) \(name ?? "unnamed") (\(hex(record.value, 2))) at MPU cycle \(record.mpuCycles)"
                + (record.origin == nil ? " (origin \(record.runs))" : "") + "\n"
        }
    }

    /// One record in `--json`: an alert's fields, or a summary's.
    struct RecordLine: Encodable {
        let type: String
        let sequence: UInt32
        let device: UInt16
        let device_cycles: UInt64
        let automaton: String?
        let name: String?
        let value: UInt64?
        let page: UInt64?
        let mpu_cycle: UInt64?
        let origin: String?
        let alerts: UInt64?
        let pages: UInt64?
        let runs: UInt32?
        let faults: UInt32?
        let mpu_cycles: UInt64?
    }

    /// A record as a syslog message: an alert a warning (a follow-up run without one,
    /// informational), a summary informational; its fields as structured data, the text as
    /// `eric listen` prints it.
    func forward(_ record: AlertRecord, _ automata: [Automaton], to sink: SyslogSink) {
        let text = Self.line(record, automata, json: false).trimmingCharacters(in: .newlines)
        var data = [("device", String(record.deviceID)), ("sequence", String(record.sequence))]
        if record.kind == .alert {
            let automaton = Int(record.automaton) < automata.count ? automata[Int(record.automaton)].name : String(record.automaton)
            data += [("automaton", automaton), ("page", "0x" + String(record.page, radix: 16)), ("value", "0x" + String(record.value, radix: 16)),
                     ("origin", Self.originName(record))]
        } else {
            data += [("alerts", String(record.value)), ("pages", String(record.page)), ("runs", String(record.runs)), ("faults", String(record.faults))]
        }
        sink.send(severity: record.kind == .alert && record.origin != .followUpRun ? 4 : 6,
                  messageID: record.kind == .alert ? "alert" : "summary", data: data, text: text)
    }

    /// "sweep", "follow-up" (an alert of a follow-up run), "follow-up-run" (a run with none).
    static func originName(_ record: AlertRecord) -> String {
        switch record.origin {
        case .sweep?: "sweep"
        case .followUp?: "follow-up"
        case .followUpRun?: "follow-up-run"
        case nil: String(record.runs)
        }
    }
}
