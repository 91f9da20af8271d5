import ArgumentParser
import CLISupport
import Correlation
import Dumps
import Foundation
import Integrity
import MPUSim

/// The state of a host in a dump: the shipped automata, correlated, then read into a state.
/// A scan that could not check everything is an error here: a verdict needs the whole host.
func hostState(of path: String, following previous: HostState? = nil) -> HostState {
    let memory = openDump(path)
    let scan = CorrelatedScan(automata: shippedAutomata(), options: ScanOptions())
    let engines: PreparedEngines
    do { engines = try scan.scanner.prepare() } catch { Console.fail("eric: error: \(error)", code: 2) }
    guard scan.scanner.wholePages(in: memory) > 0 else { Console.fail("\(path): error: nothing to scan: no whole 4 KiB page in the dump", code: 2) }
    let outcome = scan.run(memory, engines: engines)
    let faults = outcome.statistics.perAutomaton.map(\.faults).saturatingSum()
    if faults > 0 || memory.unreadableBytes > 0 {
        Console.fail("\(path): error: the scan did not check the whole dump (\(faults) runs faulted, \(memory.unreadableBytes) bytes unreadable): no verdict from part of a host", code: 2)
    }
    return StateReader().state(of: memory, reports: outcome.reports, previous: previous)
}

func describe(_ state: HostState) -> String {
    guard let h = state.hypervisor else {
        return "no hypervisor (no VMXON region, no VMCS)" + (state.dormantCode.map { "; \($0.count) pages of the code of the hypervisor last seen kept" } ?? "")
    }
    return "a hypervisor: VMXON at \(h.vmxon.map { hexString($0) }.joined(separator: ", ")), \(h.vmcs.count) VMCS (\(h.vmcs.filter(\.live).count) live) in \(h.liveVMs.count) VM\(h.liveVMs.count == 1 ? "" : "s"), \(h.code.count) pages of its code"
}

func hexString(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

func readState(_ path: String) -> HostState {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        Console.fail("\(path): error: cannot read the state: \((error as NSError).localizedFailureReason ?? "\(error)")", code: 2)
    }
    do { return try HostState(json: data) } catch { Console.fail("\(path): error: \(error)", code: 2) }
}

func saveState(_ state: HostState, to path: String) {
    do { try writeFile([UInt8](state.json()), to: path) } catch { Console.fail("eric: error: \(error)", code: 2) }
}

struct Baseline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Record the integrity state of a host from a dump of its memory.",
        discussion: """
            Scans the dump with the shipped automata and records what `eric check` compares \
            later (docs/integrity.md): the host's memory map, its VMXON regions, every VMCS \
            with its host state and controls, and the hypervisor's code around HOST_RIP. A host \
            with no hypervisor yet gives a state that says so, so that one arriving later is \
            itself a verdict.

            Examples:
              eric baseline host-t0.raw -o host.state
            """)

    @Option(name: .shortAndLong, help: "Where to write the state (JSON).")
    var output: String

    @Argument(help: "Memory dump: raw, LiME or an ELF core file.")
    var dump: String

    func run() throws {
        do { try checkWritable(output) } catch { Console.fail("eric: error: \(error)", code: 2) }
        let state = hostState(of: dump)
        saveState(state, to: output)
        Console.write("\(dump): \(describe(state)); state written to \(output)\n")
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Judge a host against its baseline: modified, disabled, relocated, new...",
        discussion: """
            Prints one verdict for the hypervisor and one per VM, each with its evidence, then \
            an overall line (docs/integrity.md). Verdicts: no-hypervisor, unchanged, evolved, \
            new-hypervisor, new-vm, vm-removed, modified, disabled, relocated.

            Exit status: 0 nothing suspicious, 1 a verdict is modified, relocated, disabled or \
            new-hypervisor, 2 an error (an unreadable state, another host's, a dump that could \
            not be checked whole).

            Examples:
              eric check --baseline host.state host-t1.raw
              eric check --baseline host.state --update --json host-t2.raw
            """)

    @Option(help: "The state `eric baseline` wrote (or a previous --update).")
    var baseline: String

    @Flag(help: "After a successful check, write this dump's state over the baseline.")
    var update = false

    @Flag(help: "Write JSON Lines: one {\"type\": \"verdict\", ...} per verdict, then a summary.")
    var json = false

    @Argument(help: "Memory dump: raw, LiME or an ELF core file.")
    var dump: String

    func run() throws {
        let then = readState(baseline)
        if update { do { try checkWritable(baseline) } catch { Console.fail("eric: error: \(error)", code: 2) } }
        let now = hostState(of: dump, following: then)
        let (text, suspicious) = Check.judge(then, now, json: json, dump: dump, baseline: baseline)
        Console.write(text)
        if update { saveState(now, to: baseline) }
        if suspicious { throw ExitCode(1) }
    }

    /// The verdicts of `now` against `then`, formatted, and whether one is suspicious.
    static func judge(_ then: HostState, _ now: HostState, json: Bool, dump: String, baseline: String) -> (String, Bool) {
        let verdicts: [Verdict]
        do { verdicts = try IntegrityCheck().verdicts(baseline: then, current: now) } catch {
            Console.fail("\(baseline): error: \(error) (\(dump))", code: 2)
        }
        let suspicious = verdicts.filter(\.kind.suspicious)
        let overall = suspicious.first?.kind ?? verdicts.first!.kind
        var out = ""
        for verdict in verdicts {
            if json {
                out += JSONLine.encode(VerdictLine(verdict))
            } else {
                let subject: String
                switch verdict.subject {
                case .hypervisor: subject = "hypervisor"
                case .vm(let root): subject = "VM (EPT at \(hexString(root)))"
                }
                out += "\(pad(verdict.kind.rawValue, 15)) \(subject)\n" + verdict.evidence.map { "                  \($0)\n" }.joined()
            }
        }
        if json {
            out += JSONLine.encode(CheckSummary(verdict: overall.rawValue, suspicious: !suspicious.isEmpty, verdicts: verdicts.count, dump: dump, baseline: baseline))
        } else {
            out += "overall: \(overall.rawValue)" + (suspicious.isEmpty ? " (nothing suspicious)" : " (suspicious: \(Set(suspicious.map(\.kind.rawValue)).sorted().joined(separator: ", ")))") + "\n"
        }
        return (out, !suspicious.isEmpty)
    }

    struct VerdictLine: Encodable {
        let type = "verdict"
        let subject: String
        let ept_root: UInt64?
        let verdict: String
        let evidence: [String]
        init(_ v: Verdict) {
            switch v.subject {
            case .hypervisor: subject = "hypervisor"; ept_root = nil
            case .vm(let root): subject = "vm"; ept_root = root
            }
            verdict = v.kind.rawValue
            evidence = v.evidence
        }
    }

    struct CheckSummary: Encodable {
        let type = "summary"
        let verdict: String
        let suspicious: Bool
        let verdicts: Int
        let dump: String
        let baseline: String
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Sweep a live guest's memory file again and again, printing the verdicts as they change.",
        discussion: """
            FILE is memory that changes while it is read, as the board reads a host over PCIe: \
            a QEMU guest started with its RAM in a file (-object \
            memory-backend-file,id=ram,mem-path=/dev/shm/vm0,size=256M,share=on -machine \
            memory-backend=ram), or any dump. Every --every, the whole file is swept (each page \
            read once), and its state judged against the baseline as `eric check` does \
            (docs/integrity.md); the verdicts are printed at the first sweep and whenever they \
            change, each time after a line with the sweep's number and time.

            Runs until interrupted, or --count sweeps. Exit status: that of the last sweep's \
            verdicts (0 nothing suspicious, 1 suspicious), 2 an error.

            Examples:
              eric baseline /dev/shm/vm0 -o vm0.state
              eric watch --every 10s --baseline vm0.state /dev/shm/vm0
            """)

    @Option(help: "Time between the starts of two sweeps: 500ms, 10s, 2m (default 10s).")
    var every = "10s"

    @Option(help: "Stop after this many sweeps (default: run until interrupted).")
    var count: Int?

    @Option(help: "The state `eric baseline` wrote.")
    var baseline: String

    @Flag(help: "Write JSON Lines: a {\"type\": \"sweep\", ...} line, then the verdicts as `eric check --json` writes them.")
    var json = false

    @Argument(help: "The guest's memory file, or a dump.")
    var file: String

    func validate() throws {
        guard Watch.seconds(every) != nil else { throw ValidationError("--every '\(every)' is not a duration (500ms, 10s, 2m)") }
        if let count, count < 1 { throw ValidationError("--count must be 1 or more") }
    }

    /// `500ms`, `10s`, `2m` or plain seconds, in seconds (more than 0).
    static func seconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }.flatMap { $0 > 0 ? $0 : nil }
        }
        return Double(text).flatMap { $0 > 0 ? $0 : nil }
    }

    struct SweepLine: Encodable {
        let type = "sweep"
        let sweep: Int
        let seconds: Double
        let changed: Bool
    }

    func run() throws {
        let then = readState(baseline)
        let interval = Watch.seconds(every)!
        let started = Date()
        var last: String?
        var suspicious = false
        var sweep = 0
        while count.map({ sweep < $0 }) ?? true {
            sweep += 1
            let begun = Date()
            let now = hostState(of: file, following: then)
            let (text, alarm) = Check.judge(then, now, json: json, dump: file, baseline: baseline)
            suspicious = alarm
            let seconds = (begun.timeIntervalSince(started) * 1000).rounded() / 1000
            if json {
                Console.write(JSONLine.encode(SweepLine(sweep: sweep, seconds: seconds, changed: text != last)) + (text != last ? text : ""))
            } else if text != last {
                Console.write("sweep \(sweep) at \(seconds) s: the verdicts\(last == nil ? "" : " changed")\n" + text)
            } else {
                Console.write("sweep \(sweep) at \(seconds) s: as before\n")
            }
            last = text
            if count.map({ sweep >= $0 }) ?? false { break }
            let rest = interval - Date().timeIntervalSince(begun)
            if rest > 0 { Thread.sleep(forTimeInterval: rest) }
        }
        if suspicious { throw ExitCode(1) }
    }
}
