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

func writeState(_ state: HostState, to path: String) {
    do { try writeFile([UInt8](state.json()), to: path) } catch { Console.fail("eric: error: \(error)", code: 2) }
}

struct Baseline: ParsableCommand {
    static let configuration = CommandConfiguration(
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
        writeState(state, to: output)
        Console.write("\(dump): \(describe(state)); state written to \(output)\n")
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
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
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: baseline)) } catch {
            Console.fail("\(baseline): error: cannot read the state: \((error as NSError).localizedFailureReason ?? "\(error)")", code: 2)
        }
        let then: HostState
        do { then = try HostState(json: data) } catch { Console.fail("\(baseline): error: \(error)", code: 2) }
        if update { do { try checkWritable(baseline) } catch { Console.fail("eric: error: \(error)", code: 2) } }
        let now = hostState(of: dump, following: then)
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
        Console.write(out)
        if update { writeState(now, to: baseline) }
        if !suspicious.isEmpty { throw ExitCode(1) }
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
