import CPrefetch
import Foundation
import MPUISA

/// An alert raised by an automaton on a page.
public struct Finding: Sendable, Hashable {
    public var pageAddress: UInt64
    /// Index of the automaton in the scan's list.
    public var automaton: Int
    public var value: UInt64
    /// The name the automaton's image gives the value, if any.
    public var name: String?
    public var pc: Int
    /// Cycle of the run at which the `int` executed.
    public var cycle: UInt64
    /// Device clock, in cycles since the scan started, at which the `int` executed.
    public var deviceCycle: UInt64

    public init(pageAddress: UInt64, automaton: Int, value: UInt64, name: String?, pc: Int, cycle: UInt64, deviceCycle: UInt64) {
        self.pageAddress = pageAddress
        self.automaton = automaton
        self.value = value
        self.name = name
        self.pc = pc
        self.cycle = cycle
        self.deviceCycle = deviceCycle
    }
}

/// A run that ended with a fault; the scan went on.
public struct FaultReport: Sendable, Hashable {
    public var pageAddress: UInt64
    public var automaton: Int
    public var fault: Fault
    public var deviceCycle: UInt64
}

public enum ScanEvent: Sendable, Hashable {
    case finding(Finding)
    case fault(FaultReport)
}

public struct AutomatonStatistics: Sendable, Hashable {
    public var runs: UInt64 = 0
    public var instructions: UInt64 = 0
    public var cycles: UInt64 = 0
    public var hostReads: UInt64 = 0
    public var alerts: UInt64 = 0
    public var faults: UInt64 = 0

    public init() {}

    public mutating func add(_ other: AutomatonStatistics) {
        runs += other.runs
        instructions += other.instructions
        cycles += other.cycles
        hostReads += other.hostReads
        alerts += other.alerts
        faults += other.faults
    }
}

public struct ScanStatistics: Sendable, Hashable {
    public var pages: UInt64 = 0
    /// Bytes of readable memory inside the scanned window that are not part of a whole
    /// page (a range that starts or ends inside a page); they were not scanned.
    public var skippedBytes: UInt64 = 0
    public var perAutomaton: [AutomatonStatistics] = []
    /// Cycles spent bringing pages into the MPU's buffer (page mode).
    public var fetchCycles: UInt64 = 0
    /// Wall-clock seconds the scan took on this machine.
    public var hostSeconds: Double = 0
    /// Follow-up runs after the sweep (pages the sweep had not checked with the automaton a
    /// follow-up asks for): their page fetches and automata cycles.
    public var followUpRuns: UInt64 = 0
    public var followUpFetchCycles: UInt64 = 0
    public var followUpCycles: UInt64 = 0

    public init() {}

    public var bytes: UInt64 { pages * UInt64(InstructionSet.pageBytes) }
    public var instructions: UInt64 { perAutomaton.reduce(0) { $0 + $1.instructions } }
    public var mpuCycles: UInt64 { perAutomaton.reduce(0) { $0 + $1.cycles } }
    public var hostReads: UInt64 { perAutomaton.reduce(0) { $0 + $1.hostReads } }
    public var alerts: UInt64 { perAutomaton.reduce(0) { $0 + $1.alerts } }
    public var faults: UInt64 { perAutomaton.reduce(0) { $0 + $1.faults } }
    /// The device scans pages one after another: fetch, then each automaton in turn; then the
    /// follow-ups, one fetch and one run each.
    public var sweepCycles: UInt64 { fetchCycles + mpuCycles }
    public var deviceCycles: UInt64 { sweepCycles + followUpFetchCycles + followUpCycles }
    public var bytesPerHostSecond: Double { hostSeconds > 0 ? Double(bytes) / hostSeconds : 0 }
}

public struct ScanOptions: Sendable {
    public var timing: TimingModel
    /// Physical window to scan; nil for everything.
    public var window: Range<UInt64>?
    /// Worker threads; 0 or less means one per core.
    public var jobs: Int
    /// Pages per unit of work handed to a thread.
    public var chunkPages: Int
    /// Compiled code or the interpreter: the results are the same, only the speed differs.
    public var engine: Engine
    /// Reuse an automaton's run on every zero page when it cannot depend on the address
    /// (ZeroPage.swift): the results are the same, only the speed differs.
    public var reuseZeroPageRuns: Bool

    public init(timing: TimingModel = .slides, window: Range<UInt64>? = nil, jobs: Int = 0, chunkPages: Int = 256,
                engine: Engine = .automatic, reuseZeroPageRuns: Bool = true) {
        self.timing = timing
        self.window = window
        self.jobs = jobs
        self.chunkPages = chunkPages
        self.engine = engine
        self.reuseZeroPageRuns = reuseZeroPageRuns
    }
}

/// Runs automata over every page of a memory view. Pages are split into chunks that worker
/// threads take in any order; their events are handed to the caller in page order, so the
/// events, their device time stamps and the statistics are the same for any job count.
public struct Scanner: Sendable {
    public var automata: [Automaton]
    public var options: ScanOptions

    public init(automata: [Automaton], options: ScanOptions = ScanOptions()) {
        self.automata = automata
        self.options = options
    }

    /// A stretch of consecutive whole pages.
    struct Chunk {
        var address: UInt64
        var pages: Int
        var bytes: UnsafeRawPointer
    }

    struct ChunkResult {
        var events: [ScanEvent] = []
        var statistics: [AutomatonStatistics]
        var pages: UInt64 = 0
        var fetchCycles: UInt64 = 0
        /// Device cycles of this chunk (fetches and runs).
        var deviceCycles: UInt64 = 0
    }

    /// Bytes of readable memory inside the window that no whole page covers (never scanned).
    public func bytesOutsideWholePages(in memory: any PhysicalMemory) -> UInt64 {
        plan(memory).skipped
    }

    /// The whole pages inside the window: what a scan checks.
    public func wholePages(in memory: any PhysicalMemory) -> UInt64 {
        plan(memory).chunks.reduce(0) { $0 + UInt64($1.pages) }
    }

    /// Splits the memory into whole pages inside the window, in chunks.
    func plan(_ memory: any PhysicalMemory) -> (chunks: [Chunk], skipped: UInt64) {
        let page = UInt64(InstructionSet.pageBytes)
        var chunks: [Chunk] = []
        var skipped: UInt64 = 0
        for range in memory.ranges {
            let start = max(range.physicalStart, options.window?.lowerBound ?? 0)
            let end = min(range.physicalEnd, options.window?.upperBound ?? .max)
            guard start < end else { continue }
            let firstPage = (start + page - 1) / page * page
            let endPage = end / page * page
            guard firstPage < endPage else {
                skipped += end - start
                continue
            }
            skipped += (firstPage - start) + (end - endPage)
            var address = firstPage
            while address < endPage {
                let count = Int(min(UInt64(options.chunkPages), (endPage - address) / page))
                chunks.append(Chunk(address: address, pages: count, bytes: range.bytes + Int(address - range.physicalStart)))
                address += UInt64(count) * page
            }
        }
        return (chunks, skipped)
    }

    /// Scans one chunk with `runners` (one per automaton, this thread's own).
    func scan(_ chunk: Chunk, in memory: any PhysicalMemory, runners: [PageRunner], alerts: inout [Alert]) -> ChunkResult {
        defer { memory.release(chunk.bytes, count: chunk.pages * InstructionSet.pageBytes) }
        var result = ChunkResult(statistics: Array(repeating: AutomatonStatistics(), count: automata.count))
        let fetch = UInt64(options.timing.pageFetchCycles)
        var clock: UInt64 = 0
        let reusesZeroRuns = runners.contains { $0.reusesZeroPageRuns }
        result.statistics.withUnsafeMutableBufferPointer { statistics in
            for index in 0..<chunk.pages {
                let address = chunk.address + UInt64(index * InstructionSet.pageBytes)
                let page = chunk.bytes + index * InstructionSet.pageBytes
                // Most automata read a page's first words first: ask for those of the page four ahead
                // now, so that its cache miss overlaps these runs (4 measured best; Benchmarks/).
                if index + 4 < chunk.pages { eric_prefetch(page + 4 * InstructionSet.pageBytes) }
                clock += fetch
                let zero = reusesZeroRuns && isZeroPage(page)
                for automatonIndex in 0..<runners.count {
                    if !alerts.isEmpty { alerts.removeAll(keepingCapacity: true) }
                    let run = runners[automatonIndex].run(page: page, pageAddress: address, pageIsZero: zero, alerts: &alerts)
                    if !alerts.isEmpty || run.fault != nil {
                        record(alerts, run, page: address, automaton: automatonIndex, clock: clock, into: &result.events)
                        statistics[automatonIndex].alerts += UInt64(alerts.count)
                        statistics[automatonIndex].faults += run.fault == nil ? 0 : 1
                    }
                    statistics[automatonIndex].runs += 1
                    statistics[automatonIndex].instructions += run.instructions
                    statistics[automatonIndex].cycles += run.cycles
                    statistics[automatonIndex].hostReads += run.hostReads
                    clock += run.cycles
                }
            }
        }
        result.pages = UInt64(chunk.pages)
        result.fetchCycles = fetch * UInt64(chunk.pages)
        result.deviceCycles = clock
        return result
    }

    /// Turns a run's alerts and fault into events (the rare path).
    @inline(never)
    func record(_ alerts: [Alert], _ run: RunResult, page address: UInt64, automaton index: Int, clock: UInt64, into events: inout [ScanEvent]) {
        let metadata = automata[index].metadata
        for alert in alerts {
            events.append(.finding(Finding(
                pageAddress: address, automaton: index, value: alert.value, name: metadata.alertName(for: alert.value),
                pc: alert.pc, cycle: alert.cycle, deviceCycle: clock + alert.cycle)))
        }
        if let fault = run.fault {
            events.append(.fault(FaultReport(pageAddress: address, automaton: index, fault: fault, deviceCycle: clock + fault.cycle)))
        }
    }

    /// The compiled code of each automaton (nil: the interpreter runs it), as the engine
    /// option asks. Throws only for `.compiled` when the code cannot be built.
    public func prepare() throws(NativeCompileError) -> PreparedEngines {
        var natives: [NativeFunction?] = []
        for automaton in automata {
            switch options.engine {
            case .interpreter: natives.append(nil)
            case .automatic: natives.append(try? automaton.compiled())
            case .compiled: natives.append(try automaton.compiled())
            }
        }
        return PreparedEngines(natives: natives)
    }

    /// Scans `memory`, calling `onEvent` for each finding and fault in page order and
    /// `onProgress` with (pages done, pages in all), both on the calling thread.
    public func run(_ memory: any PhysicalMemory, engines: PreparedEngines? = nil,
                    onEvent: (ScanEvent) -> Void = { _ in },
                    onProgress: (UInt64, UInt64) -> Void = { _, _ in }) -> ScanStatistics {
        let natives = (engines ?? (try? prepare()) ?? PreparedEngines(natives: Array(repeating: nil, count: automata.count))).natives
        // One runner per automaton, prepared once (compiled code as chosen, zero-page run);
        // each thread scans with its own copies (`init(sharing:)`: their own scratch state).
        let runners = zip(automata, natives).map { automaton, native in
            (try? PageRunner(automaton, timing: options.timing, engine: native == nil ? .interpreter : .compiled,
                             reuseZeroPageRuns: options.reuseZeroPageRuns))
                ?? PageRunner(interpreting: automaton, timing: options.timing, reuseZeroPageRuns: options.reuseZeroPageRuns)
        }
        let started = Date()
        let (chunks, skipped) = plan(memory)
        let totalPages = chunks.reduce(UInt64(0)) { $0 + UInt64($1.pages) }
        let jobs = min(max(1, options.jobs > 0 ? options.jobs : ProcessInfo.processInfo.activeProcessorCount), max(1, chunks.count))
        var statistics = ScanStatistics()
        statistics.skippedBytes = skipped
        statistics.perAutomaton = Array(repeating: AutomatonStatistics(), count: automata.count)

        var clock: UInt64 = 0
        func absorb(_ result: ChunkResult) {
            for event in result.events {
                switch event {
                case .finding(var finding):
                    finding.deviceCycle += clock
                    onEvent(.finding(finding))
                case .fault(var report):
                    report.deviceCycle += clock
                    onEvent(.fault(report))
                }
            }
            for (index, value) in result.statistics.enumerated() { statistics.perAutomaton[index].add(value) }
            statistics.pages += result.pages
            statistics.fetchCycles += result.fetchCycles
            clock += result.deviceCycles
            onProgress(statistics.pages, totalPages)
        }

        if jobs == 1 {
            var alerts: [Alert] = []
            for chunk in chunks { absorb(scan(chunk, in: memory, runners: runners, alerts: &alerts)) }
        } else {
            let board = ResultBoard(count: chunks.count, window: jobs * 4)
            let scanner = self
            let plan = UncheckedSendable(chunks)
            let prepared = UncheckedSendable(runners)
            for _ in 0..<jobs {
                Thread {
                    let runners = prepared.value.map(PageRunner.init(sharing:))
                    var alerts: [Alert] = []
                    while let index = board.take() {
                        board.put(index, scanner.scan(plan.value[index], in: memory, runners: runners, alerts: &alerts))
                    }
                }.start()
            }
            for index in 0..<chunks.count { absorb(board.wait(for: index)) }
        }
        statistics.hostSeconds = Date().timeIntervalSince(started)
        return statistics
    }
}

/// The engine chosen for each automaton of a scan.
public struct PreparedEngines: @unchecked Sendable {
    let natives: [NativeFunction?]

    /// How many automata run as compiled code.
    public var compiledCount: Int { natives.count { $0 != nil } }
}

struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Hands out chunk indices to workers and collects their results for the caller, who
/// consumes them in order. Workers stay at most `window` chunks ahead of the consumer, so
/// results waiting to be consumed cannot pile up.
final class ResultBoard: @unchecked Sendable {
    private let condition = NSCondition()
    private var results: [Scanner.ChunkResult?]
    private var nextToTake = 0
    private var nextToConsume = 0
    private let window: Int

    init(count: Int, window: Int) {
        results = Array(repeating: nil, count: count)
        self.window = window
    }

    func take() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while nextToTake < results.count && nextToTake >= nextToConsume + window { condition.wait() }
        guard nextToTake < results.count else { return nil }
        defer { nextToTake += 1 }
        return nextToTake
    }

    func put(_ index: Int, _ result: Scanner.ChunkResult) {
        condition.lock()
        results[index] = result
        condition.broadcast()
        condition.unlock()
    }

    func wait(for index: Int) -> Scanner.ChunkResult {
        condition.lock()
        defer { condition.unlock() }
        while results[index] == nil { condition.wait() }
        let result = results[index]!
        results[index] = nil
        nextToConsume = index + 1
        condition.broadcast()
        return result
    }
}
