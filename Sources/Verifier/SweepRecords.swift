import AlertProtocol
import Correlation
import EricSoC
import MPUSim

/// A board's sweep as its alert records tell it (docs/protocol.md): the sweep's runs with their
/// alerts, in page order, and the follow-up runs its checker made. Correlated as the direct
/// scan correlates (docs/automata.md, "Correlation"), they give the same findings: `eric scan
/// --soc` and a verifier listening to a board (`eric listen --baseline`) both read them so.
public struct SweepRecords {
    public private(set) var runs: [(RunKey, [UInt64])] = []
    public private(set) var runFindings: [RunKey: [Finding]] = [:]
    public private(set) var performed: [RunKey: [UInt64]] = [:]
    /// Alerts of the sweep per sweeping automaton, in slot order.
    public private(set) var perAutomaton: [Int]
    /// Records that could not be placed, each with why.
    public private(set) var warnings: [String] = []

    /// `automata`: the set the board runs (follow-up-only ones included), in any order: the
    /// board holds them in slot order (sweepers first, as `SoC.slotOrder`).
    public init(records: [AlertRecord], automata: [Automaton]) {
        let slots = SoC.slotOrder(automata)
        let sweepers = slots.filter { !$0.metadata.followUpOnly }
        perAutomaton = [Int](repeating: 0, count: sweepers.count)
        for record in records where record.kind == .alert {
            let index = Int(record.automaton)
            guard index < slots.count else { warnings.append("a record names automaton \(index), which was not loaded"); continue }
            let key = RunKey(page: record.page, automaton: slots[index].name)
            switch record.origin {
            case .followUp?: performed[key, default: []].append(record.value); continue
            case .followUpRun?: performed[key] = performed[key] ?? []; continue
            case .sweep?: break
            case nil: warnings.append("alert record #\(record.sequence) has an origin (\(record.runs)) this version does not know"); continue
            }
            guard index < sweepers.count else { warnings.append("a sweep record names automaton \(index), which runs only as a follow-up"); continue }
            perAutomaton[index] += 1
            if runs.last?.0 == key { runs[runs.count - 1].1.append(record.value) } else { runs.append((key, [record.value])) }
            // The record has the MPU cycle of the int and the LM32's time stamp, not the pc (-1).
            runFindings[key, default: []].append(Finding(pageAddress: record.page, automaton: index, value: record.value,
                                                         name: sweepers[index].metadata.alertName(for: record.value), pc: -1,
                                                         cycle: record.mpuCycles, deviceCycle: record.time))
        }
    }

    /// The sweep correlated: its reports, findings and candidates.
    public func correlated(with scan: CorrelatedScan, statistics: inout ScanStatistics, memory: any PhysicalMemory) -> ScanOutcome {
        scan.correlate(runs: runs, runFindings: runFindings, faults: [], statistics: &statistics, memory: memory, performed: performed)
    }

    /// The same for a host known by its memory map only (start, length of each range): the
    /// sweep checked every whole page of it.
    public func correlated(with scan: CorrelatedScan, memoryMap: [[UInt64]]) -> ScanOutcome {
        var statistics = ScanStatistics()
        return scan.correlate(runs: runs, runFindings: runFindings, faults: [], statistics: &statistics, performed: performed) { page in
            page % 4096 == 0 && memoryMap.contains { $0.count == 2 && page >= $0[0] && page - $0[0] <= $0[1] && $0[1] - (page - $0[0]) >= 4096 }
        }
    }
}
