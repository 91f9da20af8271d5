import MPUISA
import MPUSim

/// A scan with its correlation: the sweep (every page, the automata that run on every page),
/// the follow-ups the sweep's alerts ask for, and the reports they add up to.
public struct ScanOutcome: Sendable {
    public var statistics: ScanStatistics
    /// Findings and candidates in page order (the sweep's order, then the follow-ups').
    public var reports: [Report]
    /// Each report's alert as the sweep saw it (nil for a follow-up run's).
    public var alerts: [Finding?]
    public var faults: [FaultReport]
    public var followUps: FollowUpResult
}

public struct CorrelatedScan {
    public var automata: [Automaton]
    public var options: ScanOptions

    /// `automata`: every automaton of the scan, those marked `.followup` included (they run only
    /// when asked for).
    public init(automata: [Automaton], options: ScanOptions) {
        self.automata = automata
        self.options = options
    }

    public var sweepAutomata: [Automaton] { automata.filter { !$0.metadata.followUpOnly } }
    public var scanner: Scanner { Scanner(automata: sweepAutomata, options: options) }

    /// Whether the sweep checks the page at `address`: a whole readable page inside the window.
    public func sweeps(_ address: UInt64, in memory: any PhysicalMemory) -> Bool {
        let size = UInt64(InstructionSet.pageBytes)
        if let window = options.window {
            guard address >= window.lowerBound, window.upperBound >= size, address <= window.upperBound - size else { return false }
        }
        return address % size == 0 && pageBytes(address, in: memory) != nil
    }

    public func run(_ memory: any PhysicalMemory, engines: PreparedEngines? = nil,
                    onProgress: (UInt64, UInt64) -> Void = { _, _ in }) -> ScanOutcome {
        let sweepers = sweepAutomata
        var runs: [(RunKey, [UInt64])] = []
        var runFindings: [RunKey: [Finding]] = [:]
        var faults: [FaultReport] = []
        var statistics = scanner.run(memory, engines: engines, onEvent: { event in
            switch event {
            case .finding(let finding):
                let key = RunKey(page: finding.pageAddress, automaton: sweepers[finding.automaton].name)
                if runs.last?.0 == key {
                    runs[runs.count - 1].1.append(finding.value)
                } else {
                    runs.append((key, [finding.value]))
                }
                runFindings[key, default: []].append(finding)
            case .fault(let report):
                faults.append(report)
            }
        }, onProgress: onProgress)
        return correlate(runs: runs, runFindings: runFindings, faults: faults, statistics: &statistics, memory: memory)
    }

    /// The follow-ups and the correlation of a sweep made elsewhere (the SoC's alert records):
    /// `runs` in page order, each run's alert values in the order they were raised.
    /// `performed`: the follow-up runs made elsewhere too (the SoC's checker makes them, and its
    /// records report them); nil: made here, on `memory`.
    public func correlate(runs: [(RunKey, [UInt64])], runFindings: [RunKey: [Finding]], faults: [FaultReport],
                          statistics: inout ScanStatistics, memory: any PhysicalMemory,
                          performed: [RunKey: [UInt64]]? = nil) -> ScanOutcome {
        let walk = FollowUps(automata: automata, swept: Set(sweepAutomata.map(\.name)), timing: options.timing, engine: options.engine)
        guard let performed else {
            return correlate(runs: runs, runFindings: runFindings, faults: faults, statistics: &statistics,
                             followUps: walk.run(sweep: runs, memory: memory, pageWasSwept: { sweeps($0, in: memory) }))
        }
        return correlate(runs: runs, runFindings: runFindings, faults: faults, statistics: &statistics, performed: performed,
                         pageWasSwept: { sweeps($0, in: memory) })
    }

    /// The same, for a sweep whose every run, follow-ups included, was made elsewhere and is
    /// known only by its alerts (a board's records): `pageWasSwept` says which pages the sweep
    /// checked, from the host's memory map.
    public func correlate(runs: [(RunKey, [UInt64])], runFindings: [RunKey: [Finding]], faults: [FaultReport],
                          statistics: inout ScanStatistics, performed: [RunKey: [UInt64]],
                          pageWasSwept: (UInt64) -> Bool) -> ScanOutcome {
        let walk = FollowUps(automata: automata, swept: Set(sweepAutomata.map(\.name)), timing: options.timing, engine: options.engine)
        let followUps = walk.run(sweep: runs, pageWasSwept: pageWasSwept) { key, _ in
            performed[key].map { PerformedRun(values: $0, result: RunResult()) }
        }
        return correlate(runs: runs, runFindings: runFindings, faults: faults, statistics: &statistics, followUps: followUps)
    }

    func correlate(runs: [(RunKey, [UInt64])], runFindings: [RunKey: [Finding]], faults: [FaultReport],
                   statistics: inout ScanStatistics, followUps: FollowUpResult) -> ScanOutcome {
        statistics.followUpRuns = followUps.statistics.runs
        statistics.followUpFetchCycles = followUps.fetchCycles
        statistics.followUpCycles = followUps.statistics.cycles
        let metadata = Dictionary(automata.map { ($0.name, $0.metadata) }, uniquingKeysWith: { first, _ in first })
        let reports = Correlator(sweep: runs, followUps: followUps, metadata: metadata).reports()
        let alerts = reports.map { report in
            runFindings[RunKey(page: report.page, automaton: report.automaton)]?.first { $0.value == report.value }
        }
        return ScanOutcome(statistics: statistics, reports: reports, alerts: alerts, faults: faults, followUps: followUps)
    }
}
