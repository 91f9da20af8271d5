import Correlation
import MPUISA
import MPUSim

/// The checker's follow-up unit (docs/soc.md, "Follow-ups"): where one page cannot prove a
/// structure, the pointers between pages do. The firmware writes the automata's follow rules
/// (FOLLOW_RULE) and how many list slots hold automata (CATALOG_COUNT, the sweep's first, then
/// those that run only when asked); during the sweep the unit keeps what every START_LIST
/// found; START_FOLLOWUPS then walks the requests those alerts make, fetching and checking
/// each page asked for, and queues every follow-up run's alerts (ALERT_ORIGIN 1) and every run
/// that raised none (ALERT_ORIGIN 2) in the FIFO, each with its page (ALERT_PAGE) and slot.
/// The walk is the direct scan's (Correlation's FollowUps), so both find the same.
extension Checker {
    /// A FOLLOW_RULE word: bits 0-7 the alert value, 8-13 the slot asked for, 14-15 the kind
    /// (1 the next `int` is a page pointer to check with that slot, 2 it is an operand), 16-23
    /// the depth, 24-29 the slot whose alert it is. Writing 0 forgets every rule.
    public struct FollowRule: Hashable, Sendable {
        public enum Kind: UInt32, Sendable { case follow = 1, operand = 2 }
        public var source: Int
        public var value: UInt8
        public var kind: Kind
        public var target: Int
        public var depth: UInt8

        public init(source: Int, value: UInt8, kind: Kind, target: Int = 0, depth: UInt8 = 0) {
            self.source = source
            self.value = value
            self.kind = kind
            self.target = target
            self.depth = depth
        }

        public var word: UInt32 {
            UInt32(value) | UInt32(target & 0x3f) << 8 | kind.rawValue << 14 | UInt32(depth) << 16 | UInt32(source & 0x3f) << 24
        }

        public init?(word: UInt32) {
            guard let kind = Kind(rawValue: word >> 14 & 3) else { return nil }
            self.init(source: Int(word >> 24 & 0x3f), value: UInt8(word & 0xff), kind: kind,
                      target: Int(word >> 8 & 0x3f), depth: UInt8(word >> 16 & 0xff))
        }
    }

    /// At most this many rules (a rule memory of 256 words).
    public static let ruleCapacity = 256

    func writeFollowRule(_ word: UInt32) {
        if word == 0 {
            followRules.removeAll()
        } else if FollowRule(word: word) != nil, followRules.count < Self.ruleCapacity {
            followRules.append(word)
        } else {
            status |= Self.error
        }
    }

    /// What a START_LIST found, kept for the follow-ups: its runs with alerts, in order, and
    /// the page among those the sweep checked.
    func recordSweep(_ alerts: [QueuedAlert], page: UInt64) {
        for alert in alerts {
            let key = RunKey(page: page, automaton: Self.slotName(Int(alert.source)))
            if sweepRuns.last?.0 == key { sweepRuns[sweepRuns.count - 1].1.append(alert.value) } else { sweepRuns.append((key, [alert.value])) }
        }
        if let last = sweptPages.last, last.upperBound < UInt64.max - 0xfff, last.upperBound + 0x1000 == page {
            sweptPages[sweptPages.count - 1] = last.lowerBound...page
        } else {
            sweptPages.append(page...page)
        }
    }

    static func slotName(_ slot: Int) -> String { "slot \(slot)" }

    /// The catalog as the follow-up walk sees it: each slot's code with its rules as metadata.
    func catalog() -> [Automaton] {
        let rules = followRules.compactMap(FollowRule.init(word:))
        return (0..<Int(catalogCount)).map { slot in
            let entry = list[slot]
            let start = Int(entry.base)
            let end = entry.length == 0 ? Self.programBytes : min(Self.programBytes, start + Int(entry.length))
            let mine = rules.filter { $0.source == slot }
            let metadata = MPUMetadata(name: Self.slotName(slot),
                                       follows: mine.filter { $0.kind == .follow }.map {
                                           MPUFollow(value: UInt64($0.value), automaton: Self.slotName($0.target), depth: $0.depth) },
                                       operands: mine.filter { $0.kind == .operand }.map { UInt64($0.value) },
                                       followUpOnly: slot >= Int(listCount))
            return Automaton(image: MPUImage(entry: entry.entry, code: fetchedCode(start, end), metadata: metadata))
        }
    }

    /// START_FOLLOWUPS: the walk, whole, when it starts; its alerts are then released over
    /// LM32 cycles as a START's are, each at the end of its run (page fetches included).
    func startFollowUps(at now: UInt64) {
        guard !running else { status |= Self.error; return }
        var model = runTiming
        model.hostAccess = mode == 1 ? .word : .page
        let automata = catalog()
        let swept = Set(automata.filter { !$0.metadata.followUpOnly }.map(\.name))
        let pages = Self.merged(sweptPages)
        let result = FollowUps(automata: automata, swept: swept, timing: model, engine: engine)
            .run(sweep: sweepRuns, memory: host, pageWasSwept: { page in Self.contains(pages, page) })
        sweepRuns.removeAll()
        sweptPages.removeAll()
        bufferedPage = nil
        let fetch = UInt64(model.pageFetchCycles)
        var due: UInt64 = 0
        queued.removeAll()
        for key in result.order {
            let slot = UInt32(key.automaton.dropFirst(5)) ?? 0
            due += fetch + (result.cycles[key] ?? 0)
            let values = result.runs[key] ?? []
            if values.isEmpty {
                queued.append(QueuedAlert(value: 0, cycle: 0, source: slot, due: due, page: key.page, origin: .followUpRun))
            }
            for value in values {
                queued.append(QueuedAlert(value: value, cycle: 0, source: slot, due: due, page: key.page, origin: .followUp))
            }
        }
        followUpStatistics.add(result.statistics)
        followUpFetchCycles += result.fetchCycles
        nextQueued = 0
        fetchCycles = 0
        pendingFetchCycles = result.fetchCycles
        pendingInstructions = result.statistics.instructions
        pendingHostReads = result.statistics.hostReads
        pendingFaultedRuns = UInt32(clamping: result.statistics.faults)
        pendingFault = nil
        lastRunCount = UInt32(clamping: result.order.count)
        startCycles = due
        begin(at: now)
    }

    /// `ranges` sorted, overlapping and adjacent ones joined (a dump's ranges need not come in
    /// address order).
    static func merged(_ ranges: [ClosedRange<UInt64>]) -> [ClosedRange<UInt64>] {
        var out: [ClosedRange<UInt64>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, range.lowerBound <= last.upperBound || range.lowerBound - last.upperBound <= 0x1000 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                out.append(range)
            }
        }
        return out
    }

    /// Whether `page` lies in one of the sorted, disjoint `ranges`.
    static func contains(_ ranges: [ClosedRange<UInt64>], _ page: UInt64) -> Bool {
        var low = 0, high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < page { low = middle + 1 } else { high = middle }
        }
        return low < ranges.count && ranges[low].contains(page)
    }
}
