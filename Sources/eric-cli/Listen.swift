import AlertProtocol
import EricSoC
import ArgumentParser
import CLISupport
import Capture
import Foundation
import MPUSim
import Sealing

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

            With --key (the board's device key file), every record must carry a valid tag \
            (docs/protocol.md, "Authenticated records"): forged records and replays are \
            reported and not shown as alerts, records that arrive after later ones are shown \
            and reported as late, and sequence numbers that never arrived are reported at each \
            summary and at the end. Exit status: 0, or 1 when a record was forged, replayed or \
            missing (--key), 2 on an error.

            With --board (the board's control address), the sweep is judged as `eric check` \
            judges a dump (with --keep-going, every sweep, the exit status the last one's) (docs/integrity.md, "From the wire"): after its summary the board is \
            asked for the evidence (its memory map, the VMCS pages, the hypervisor's code; each \
            answer authenticated under --key and the sweep's boot nonce), and --baseline prints \
            the verdicts (--update: the new state written over it), --write-state writes the \
            host's state. Exit status then as eric check's: 1 when a verdict is modified, \
            relocated, disabled or new-hypervisor; 2 when the records or the evidence do not hold.
              eric listen udp://0.0.0.0:17746 --key board.key --board udp://192.168.0.42:17747 --baseline host.state
            """)

    @Argument(help: "udp://HOST:PORT to listen on (port 0: any free port, printed on standard error), or a pcap file.")
    var source: String

    @Flag(help: "Write JSON Lines instead of text.")
    var json = false

    @Flag(help: "Over UDP, keep listening after a summary record.")
    var keepGoing = false

    @Option(help: ArgumentHelp("The board's device key file: verify each record's tag and sequence (forged, replayed, late, missing).", valueName: "file"))
    var key: String?

    @Option(help: ArgumentHelp("Also forward every record to a syslog collector (RFC 5424; rsyslog, syslog-ng): udp://HOST:PORT or tcp://HOST:PORT.", valueName: "url"))
    var syslog: String?

    @Option(help: ArgumentHelp("After the sweep, judge the host against this state (eric baseline) as eric check does, from the sweep's records and the evidence the board reads (needs --board).", valueName: "file"))
    var baseline: String?

    @Option(help: ArgumentHelp("The board's control address (udp://HOST:PORT), to ask it for the evidence of a verdict (--baseline).", valueName: "url"))
    var board: String?

    @Flag(help: "With --baseline: after a successful check, write the host's new state over the baseline.")
    var update = false

    @Option(help: ArgumentHelp("Write the state of the host this sweep shows (as eric baseline does from a dump; needs --board).", valueName: "file"))
    var writeState: String?

    func validate() throws {
        let judging = baseline != nil || writeState != nil
        if judging && board == nil { throw ValidationError("--baseline and --write-state need --board: a state needs the board's evidence") }
        if board != nil && !judging { throw ValidationError("--board is for --baseline or --write-state") }
        if board != nil && key == nil { throw ValidationError("--board needs --key: the board answers only requests made with its key, and its evidence is checked with it") }
        if judging && !source.hasPrefix("udp://") { throw ValidationError("--baseline and --write-state take a live sweep: listen on udp://HOST:PORT (a capture holds no evidence to ask for)") }
        if update && baseline == nil { throw ValidationError("--update needs --baseline") }
    }

    func run() throws {
        var sink: SyslogSink?
        if let syslog {
            do { sink = try SyslogSink(url: syslog) } catch { Console.fail("eric: error: --syslog \(error)", code: 2) }
        }
        defer {
            if let sink, sink.failures > 0 { Console.error("eric: warning: \(sink.failures) records could not be sent to \(syslog ?? "")") }
        }
        // The board's address is checked now, not after a sweep has been waited for.
        if let board { do { _ = try UDPSocket.parse(board) } catch { Console.fail("eric: error: --board \(board): \(error)", code: 2) } }
        let then = baseline.map(readState)
        for path in [update ? baseline : nil, writeState].compactMap({ $0 }) {
            do { try checkWritable(path) } catch { Console.fail("eric: error: \(error)", code: 2) }
        }
        // Records name automata by the checker's slot: the shipped ones in the order eric installs them.
        let receiver = Receiver(automata: SoC.slotOrder(shippedAutomata()), json: json, sink: sink,
                                authenticator: key.map { RecordAuthenticator(deviceKey: loadDeviceKey($0)) })
        if source.hasPrefix("udp://") {
            let socket: UDPSocket
            do {
                let (host, port) = try UDPSocket.parse(source)
                socket = try UDPSocket(listeningOn: host, port: port)
                Console.error("eric: listening on udp://\(host):\(socket.port)")
            } catch { Console.fail("eric: error: \(error)", code: 2) }
            // With --board, each sweep is judged at its summary (docs/integrity.md, "From the
            // wire"); with --keep-going, sweep after sweep, against the baseline (--update: the
            // last state), a sweep that cannot be judged said and passed.
            var baselineState = then
            var status: Int32 = 0
            var problemsBefore = 0
            while let datagram = socket.receive() {
                let summary: Bool
                do {
                    let record = try AlertRecord(payload: datagram)
                    let taken = receiver.take(record)
                    summary = taken.summary
                    Console.write(taken.text + (summary ? receiver.missing() : ""))
                } catch {
                    Console.error("eric: warning: a datagram of \(datagram.count) bytes is not an ERIC record: \(error)")
                    continue
                }
                if summary, let board {
                    do {
                        let (suspicious, now) = try judge(receiver, baseline: baselineState, board: board, problemsBefore: problemsBefore)
                        status = suspicious ? 1 : 0
                        if update { baselineState = now }
                    } catch {
                        guard keepGoing else { Console.fail("eric: error: \(error)", code: 2) }
                        Console.error("eric: error: \(error)")
                        status = 2
                    }
                    problemsBefore = receiver.forged + receiver.replayed + receiver.missingRecords
                    receiver.genuine.removeAll()
                }
                if summary && !keepGoing { break }
            }
            receiver.finish()
            if status != 0 { throw ExitCode(status) }
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
                    out += receiver.take(try AlertRecord(payload: udp.payload)).text
                } catch {
                    Console.error("\(source): warning: frame \(index + 1) is not an ERIC record: \(error)")
                }
            }
            Console.write(out + receiver.missing() + receiver.unfinished())
            if control > 0 { Console.error("\(source): \(control) control-channel frame(s) (UDP port \(ControlMessage.port)) are not alert records; tshark with tools/wireshark/eric.lua shows them") }
            // The good records are out; the damage still makes the exit status an error.
            if let damage = capture.damage { Console.fail("\(source): error: \(damage) (the \(capture.frames.count) frames before it are shown)", code: 2) }
            receiver.finish()
        }
    }

    /// Turns records into lines, through the audit when there is a key, and forwards them.
    final class Receiver {
        let automata: [Automaton]
        let json: Bool
        let sink: SyslogSink?
        var audit: RecordAudit?
        /// Records forged or replayed, and sequence numbers missing: with a key, exit status 1.
        var forged = 0, replayed = 0, missingRecords = 0
        var unverified = 0
        /// The records shown (verified, when there is a key), in the order they came.
        var genuine: [AlertRecord] = []

        init(automata: [Automaton], json: Bool, sink: SyslogSink?, authenticator: RecordAuthenticator?) {
            self.automata = automata
            self.json = json
            self.sink = sink
            audit = authenticator.map { authenticator in
                RecordAudit { authenticator.verify(bootNonce: $0, body: $1, tag: $2) }
            }
        }

        /// The lines for a record, and whether it ends a sweep (a summary, genuine when checked).
        func take(_ record: AlertRecord) -> (text: String, summary: Bool) {
            guard audit != nil else {
                if record.authentication != nil { unverified += 1 }
                sink.map { Listen.forward(record, automata, to: $0) }
                genuine.append(record)
                return (Listen.line(record, automata, json: json, authenticated: nil), record.kind == .summary)
            }
            let verdict = audit!.admit(record)
            let seq = record.sequence, device = record.deviceID
            let boot = record.authentication.map { hex($0.bootNonce, 16) } ?? "none"
            var out = ""
            switch verdict {
            case .forged(let reason):
                forged += 1
                return (problem("forged", ["sequence": .number(UInt64(seq)), "device": .number(UInt64(device)), "reason": .text(reason)],
                                "FORGED record claiming #\(seq) (device \(device)): \(reason); not shown"), false)
            case .replayed:
                replayed += 1
                return (problem("replayed", ["sequence": .number(UInt64(seq)), "device": .number(UInt64(device)), "boot": .text(boot)],
                                "REPLAYED record #\(seq) (device \(device), boot \(boot)): received before; not shown again"), false)
            case .late(let after, let reported):
                out = problem("late", ["sequence": .number(UInt64(seq)), "device": .number(UInt64(device)), "after": .number(UInt64(after)),
                                       "reported_missing": .flag(reported)],
                              "late: record #\(seq) arrived after #\(after)" + (reported ? ", once reported missing" : ""))
            case .inOrder: break
            }
            sink.map { Listen.forward(record, automata, to: $0) }
            genuine.append(record)
            return (out + Listen.line(record, automata, json: json, authenticated: true), record.kind == .summary)
        }

        /// Lines for the sequence numbers that have not arrived (each reported once).
        func missing() -> String {
            guard audit != nil else { return "" }
            return audit!.missing().map { gap in
                let range = gap.sequences
                missingRecords += range.count
                let which = range.count == 1 ? "record #\(range.lowerBound)" : "records #\(range.lowerBound)-#\(range.upperBound)"
                return problem("missing", ["device": .number(UInt64(gap.device)), "boot": .text(hex(gap.bootNonce, 16)),
                                           "first": .number(UInt64(range.lowerBound)), "last": .number(UInt64(range.upperBound))],
                               "MISSING \(which) (device \(gap.device), boot \(hex(gap.bootNonce, 16))): never arrived")
            }.joined()
        }

        /// Lines for the boots whose last sweep has no summary (at the end of a capture).
        func unfinished() -> String {
            guard let audit else { return "" }
            return audit.unfinished().map { boot in
                missingRecords += 1
                return problem("missing-summary", ["device": .number(UInt64(boot.device)), "boot": .text(hex(boot.bootNonce, 16)),
                                                   "after": .number(UInt64(boot.last))],
                               "MISSING the summary of boot \(hex(boot.bootNonce, 16)) (device \(boot.device)): nothing after record #\(boot.last) arrived")
            }.joined()
        }

        /// Ends the listener: a note on tags not checked, and exit status 1 for what the audit found.
        func finish() {
            if unverified > 0 { Console.error("eric: note: \(unverified) records carry tags (a board with a key); give --key to verify them") }
            if forged + replayed + missingRecords > 0 {
                Console.fail("eric: the records do not hold: \(forged) forged, \(replayed) replayed, \(missingRecords) missing (see above)", code: 1)
            }
        }

        enum Field { case number(UInt64), text(String), flag(Bool) }

        /// A finding of the audit: a JSON line of its type, or a text line; to syslog as an error.
        func problem(_ type: String, _ fields: [String: Field], _ text: String) -> String {
            // A late record is not lost: a warning; the rest are errors.
            sink?.send(severity: type == "late" ? 4 : 3, messageID: type, data: fields.keys.sorted().map { key in
                switch fields[key]! {
                case .number(let n): (key, String(n))
                case .text(let t): (key, t)
                case .flag(let f): (key, String(f))
                }
            }, text: text)
            guard json else { return text + "\n" }
            var object: [String: Any] = ["type": type]
            for (key, field) in fields {
                switch field {
                case .number(let n): object[key] = n
                case .text(let t): object[key] = t
                case .flag(let f): object[key] = f
                }
            }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        }
    }

    /// `authenticated`: true when its tag was verified, nil when there was no key to verify with.
    static func line(_ record: AlertRecord, _ automata: [Automaton], json: Bool, authenticated: Bool? = nil) -> String {
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
                                              faults: alert ? nil : record.faults, mpu_cycles: alert ? nil : record.mpuCycles,
                                              authenticated: authenticated))
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
        let authenticated: Bool?
    }

    /// A record as a syslog message: an alert a warning (a follow-up run without one,
    /// informational), a summary informational; its fields as structured data, the text as
    /// `eric listen` prints it.
    static func forward(_ record: AlertRecord, _ automata: [Automaton], to sink: SyslogSink) {
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
