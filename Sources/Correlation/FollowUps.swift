import MPUISA
import MPUSim

/// A pointer from one run to a page another automaton checks.
public struct Edge: Hashable, Sendable {
    public var from: RunKey
    public var to: RunKey
    public var request: FollowRequest
}

/// What the follow-ups of a scan did: the runs they made (pages the sweep did not check with
/// that automaton), the edges between runs, and what they cost the device.
public struct FollowUpResult: Sendable {
    /// Alert values of each follow-up run, and the runs in the order they were made.
    public var runs: [RunKey: [UInt64]] = [:]
    public var order: [RunKey] = []
    public var edges: [Edge] = []
    /// Requests for pages no memory range holds whole (nothing to check there).
    public var unreadable: [Edge] = []
    /// Requests left undone because the run limit was reached.
    public var dropped = 0
    public var statistics = AutomatonStatistics()
    /// Page fetches of the follow-up runs (one per run, at the timing's page-fetch cost).
    public var fetchCycles: UInt64 = 0
    /// Each run's own MPU cycles (its page fetch not included).
    public var cycles: [RunKey: UInt64] = [:]
}

/// A follow-up run as whoever made it reports it: its alert values and what it cost.
public struct PerformedRun: Sendable {
    public var values: [UInt64]
    public var result: RunResult
    public init(values: [UInt64], result: RunResult) {
        self.values = values
        self.result = result
    }
}

/// Runs the follow-ups that automata ask for (`.follow`), breadth first from the sweep's runs:
/// a request for an automaton of the sweep on a page the sweep checked is answered by the
/// sweep's run (the device already has it); any other request is a page fetch and a run, whose
/// own requests follow, until a chain is as long as its rule allows. Deterministic: requests are
/// taken in the sweep's page order, then in the order runs made them.
public struct FollowUps {
    public var automata: [Automaton]
    /// Names of the automata the sweep ran on every page.
    public var swept: Set<String>
    public var timing: TimingModel
    public var engine: Engine
    /// At most this many follow-up runs per scan (a hostile dump cannot make the walk unbounded).
    public var runLimit: Int

    public init(automata: [Automaton], swept: Set<String>, timing: TimingModel, engine: Engine = .automatic, runLimit: Int = 1 << 18) {
        self.automata = automata
        self.swept = swept
        self.timing = timing
        self.engine = engine
        self.runLimit = runLimit
    }

    /// `sweep`: the alert values of every sweep run that raised any, in page order.
    /// `pageWasSwept`: whether the sweep checked a page (inside the window, a whole readable page).
    public func run(sweep: [(RunKey, [UInt64])], memory: any PhysicalMemory, pageWasSwept: (UInt64) -> Bool) -> FollowUpResult {
        var runners: [String: PageRunner] = [:]
        var alerts: [Alert] = []
        return run(sweep: sweep, pageWasSwept: pageWasSwept) { key, automaton in
            guard let page = pageBytes(key.page, in: memory) else { return nil }
            let runner = runners[automaton.name] ?? {
                let made = (try? PageRunner(automaton, timing: timing, engine: engine, reuseZeroPageRuns: false))
                    ?? PageRunner(interpreting: automaton, timing: timing, reuseZeroPageRuns: false)
                runners[automaton.name] = made
                return made
            }()
            alerts.removeAll(keepingCapacity: true)
            let run = runner.run(page: page, pageAddress: key.page, pageIsZero: false, alerts: &alerts)
            releaseNeighbourhood(of: key.page, in: memory)
            return PerformedRun(values: alerts.map(\.value), result: run)
        }
    }

    /// Gives back the mapping around a page a follow-up read. The sweep released what it read;
    /// a follow-up's fault can map a whole large folio of the file around its page (seen: 1 MB a
    /// run, 560 MB of resident memory after 568 runs on a 4 GiB dump), so the 2 MiB around it go.
    func releaseNeighbourhood(of address: UInt64, in memory: any PhysicalMemory) {
        let window: UInt64 = 2 << 20
        let low = address & ~(window - 1)
        for range in memory.ranges where range.offset(of: address) != nil {
            let start = max(range.physicalStart, low), end = min(range.physicalEnd, low + window)
            memory.release(range.bytes + Int(start - range.physicalStart), count: Int(end - start))
        }
    }

    /// The same walk with the runs made by `perform` (nil: no whole page there to check). The
    /// SoC's checker makes them on the device; a scan through the SoC then reads them back from
    /// the device's records, so that both sides walk the same requests to the same result.
    public func run(sweep: [(RunKey, [UInt64])], pageWasSwept: (UInt64) -> Bool,
                    perform: (RunKey, Automaton) -> PerformedRun?) -> FollowUpResult {
        var result = FollowUpResult()
        let byName = Dictionary(automata.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var queue: [(from: RunKey, request: FollowRequest, remaining: Int)] = []
        for (key, values) in sweep {
            guard let automaton = byName[key.automaton] else { continue }
            for request in RunClaims(values: values, metadata: automaton.metadata).follows {
                queue.append((key, request, request.depth))
            }
        }
        var head = 0
        while head < queue.count {
            let (from, request, remaining) = queue[head]
            head += 1
            let to = RunKey(page: request.page, automaton: request.automaton)
            let edge = Edge(from: from, to: to, request: request)
            result.edges.append(edge)
            guard let automaton = byName[request.automaton] else { continue }
            if swept.contains(request.automaton) && pageWasSwept(to.page) { continue }
            if result.runs[to] != nil || remaining < 1 { continue }
            guard result.order.count < runLimit else {
                result.dropped += 1
                continue
            }
            guard let performed = perform(to, automaton) else {
                result.unreadable.append(edge)
                continue
            }
            let run = performed.result, values = performed.values
            result.runs[to] = values
            result.order.append(to)
            result.cycles[to] = run.cycles
            result.statistics.runs += 1
            result.statistics.instructions += run.instructions
            result.statistics.cycles += run.cycles
            result.statistics.hostReads += run.hostReads
            result.statistics.alerts += UInt64(values.count)
            result.statistics.faults += run.fault == nil ? 0 : 1
            result.fetchCycles += UInt64(timing.pageFetchCycles)
            for next in RunClaims(values: values, metadata: automaton.metadata).follows {
                queue.append((to, next, min(remaining - 1, next.depth)))
            }
        }
        return result
    }
}

/// The 4 KiB page at `address` when one range holds all of it.
public func pageBytes(_ address: UInt64, in memory: any PhysicalMemory) -> UnsafeRawPointer? {
    for range in memory.ranges {
        if let offset = range.offset(of: address, bytes: UInt64(InstructionSet.pageBytes)) { return range.bytes + offset }
    }
    return nil
}
