import Correlation
import LM32Sim
import MPUISA
import MPUSim
import Sealing

/// The checker: the MPU as the LM32 firmware drives it (docs/soc.md, "Checker"). The firmware
/// loads automata into the MPU's 64 KiB program memory, lists them (or chooses one by BASE,
/// ENTRY and LENGTH), chooses the host access mode and the page, starts the MPU and takes its
/// interrupts.
///
/// Time: a START is simulated whole when it happens (an automaton's course depends only on the
/// page), then released over LM32 cycles. Each non-zero `int` puts its value in the
/// interrupt FIFO at the cycle it ran and the MPU goes on (docs/timing.md); only when the FIFO
/// is full does the MPU stall until the firmware pops a value, so a slow handler slows the
/// scan as it would on the board, and no alert is ever lost.
public final class Checker: BusDevice {
    public static let interruptLine = 12
    public static let programBytes = 64 * 1024
    public static let listCapacity = 64
    public var waitStates: Int { 0 }

    /// Host physical memory (the dump), reached over PCIe.
    public let host: any PhysicalMemory
    let ranges: [MemoryRange]
    /// The MPU's timing (clock, PCIe costs); MODE chooses its host access.
    public let timing: TimingModel
    /// LM32 cycles per second, to turn MPU cycles into LM32 cycles.
    public let lm32ClockHz: UInt64
    let mpuClockHz: UInt64
    /// How the simulation runs automata (the results are the same; docs/timing.md).
    public let engine: Engine
    /// The current LM32 cycle.
    public var clock: () -> UInt64

    /// An automaton in program memory: where its code starts, its entry point counted from
    /// there, and its code's size (0: up to the end of program memory).
    public struct Slot: Hashable, Sendable {
        public var base: UInt32 = 0
        public var entry: UInt32 = 0
        public var length: UInt32 = 0
    }

    public internal(set) var program = [UInt8](repeating: 0, count: Checker.programBytes)
    /// The device key, the bundle buffer and the sealed set in place (SealedPrograms.swift).
    var sealing = SealingState()
    /// Automata decoded from program memory and ready to run, by slot and host access mode;
    /// emptied when program memory is written.
    var runners: [RunnerKey: PageRunner] = [:]
    struct RunnerKey: Hashable {
        var slot: Slot
        var wordMode: Bool
    }
    /// In front of `runners`, without hashing: the list's runners (for the current MODE) by
    /// index, then the single START's; nil where a write may have changed them.
    var cachedRunners = [PageRunner?](repeating: nil, count: Checker.listCapacity + 1)

    public internal(set) var status: UInt32 = 0
    public private(set) var interruptEnable: UInt32 = 0
    public private(set) var mode: UInt32 = 0
    public private(set) var page: UInt64 = 0
    /// The automaton of a single START (BASE, ENTRY, LENGTH). Its addresses (pc, jump targets)
    /// count from BASE, so automata assembled at 0 run anywhere.
    public private(set) var single = Slot()
    /// The automata of a START_LIST, run in this order on the page.
    public internal(set) var list = [Slot](repeating: Slot(), count: Checker.listCapacity)
    public internal(set) var listCount: UInt32 = 0
    var listSelect: UInt32 = 0
    public private(set) var programAddress: UInt32 = 0
    public private(set) var rangeSelect: UInt32 = 0
    /// The host read port's next address (HostReadPort.swift).
    var hostAddress: UInt64 = 0
    /// The page digest unit's last digest (DIGEST_0-7).
    var pageDigest = [UInt32](repeating: 0, count: 8)

    /// The last finished START, all its runs together: MPU cycles (page fetch included),
    /// instructions, host reads, how many runs faulted and the last fault.
    public private(set) var lastCycles: UInt64 = 0
    public private(set) var lastInstructions: UInt64 = 0
    public private(set) var lastHostReads: UInt64 = 0
    public private(set) var lastFaultedRuns: UInt32 = 0
    public private(set) var lastFault: Fault?
    /// The page the MPU's page buffer holds (page mode).
    var bufferedPage: UInt64?
    /// Since power-on, over finished STARTs: MPU cycles spent bringing pages over PCIe into
    /// the page buffer, and all MPU cycles (fetches included). For reports; not registers.
    public private(set) var totalFetchCycles: UInt64 = 0
    public private(set) var totalCycles: UInt64 = 0

    /// An alert of the START in progress, waiting to enter the FIFO.
    public struct QueuedAlert: Sendable, Hashable {
        public var value: UInt64
        /// The cycle of its run at which the `int` ran (page fetch excluded, as the direct
        /// scanner's findings count it).
        public var cycle: UInt64
        /// Its automaton: the list index (0 for a single START).
        public var source: UInt32
        /// MPU cycles from the first run's start to the `int` (earlier runs included).
        var due: UInt64
        /// The page its run checked.
        public var page: UInt64
        /// What made it (ALERT_ORIGIN): the sweep, or a follow-up run (docs/soc.md).
        public var origin: Origin = .sweep
    }

    /// ALERT_ORIGIN: 0 an alert of a START or START_LIST, 1 an alert of a follow-up run, 2 a
    /// follow-up run that raised none (its value 0): the record that it was made.
    public enum Origin: UInt32, Sendable, Hashable {
        case sweep = 0, followUp = 1, followUpRun = 2
    }
    /// The START in progress: its alerts, the next to enter the FIFO, and the release's timing.
    var running = false
    var queued: [QueuedAlert] = []
    var nextQueued = 0
    var startCycles: UInt64 = 0
    /// The START's page fetch: its events come that much later.
    var fetchCycles: UInt64 = 0
    /// Works out the list's runs on the next pages ahead of time (created at the first
    /// START_LIST); `plan` names the list as it stands, bumped when it may have changed.
    var runAhead: RunAhead?
    var plan = 0
    var startedAt: UInt64 = 0
    /// LM32 cycles lost to stalls on a full FIFO so far; the cycle the MPU stalled at, if it is.
    var stalled: UInt64 = 0
    var stalledSince: UInt64?
    /// Results of the START in progress, published when it ends.
    var pendingInstructions: UInt64 = 0, pendingHostReads: UInt64 = 0, pendingFaultedRuns: UInt32 = 0
    var pendingFetchCycles: UInt64 = 0, lastRunCount: UInt32 = 0
    /// LAST_RUNS: the runs the last finished START made (the list's length, or the follow-ups').
    public private(set) var lastRuns: UInt32 = 0
    /// The follow-up unit (FollowUpUnit.swift): the rules, the catalog of automata they may
    /// name, and what the sweep since the last follow-ups found.
    var followRules: [UInt32] = []
    public internal(set) var catalogCount: UInt32 = 0
    var sweepRuns: [(RunKey, [UInt64])] = []
    var sweptPages: [ClosedRange<UInt64>] = []
    /// Since power-on, for reports (not registers): the follow-up runs and their cycles.
    public internal(set) var followUpStatistics = AutomatonStatistics()
    public internal(set) var followUpFetchCycles: UInt64 = 0
    var pendingFault: Fault?
    var scratch: [Alert] = []
    /// Alerts waiting for the firmware, oldest first.
    public private(set) var fifo: [QueuedAlert] = []
    /// TIME_HI as latched by the last read of TIME_LO, so the pair reads one instant.
    var latchedTimeHigh: UInt32 = 0
    public let fifoDepth: Int

    public static let busy: UInt32 = 1, done: UInt32 = 2, alert: UInt32 = 4, fault: UInt32 = 8, error: UInt32 = 16

    public init(host: any PhysicalMemory, timing: TimingModel = .slides, lm32ClockHz: UInt64 = 80_000_000, fifoDepth: Int = 16,
                engine: Engine = .automatic, key: DeviceKey? = nil, bootNonce: UInt64? = nil, clock: @escaping () -> UInt64 = { 0 }) {
        self.host = host
        ranges = host.ranges
        self.fifoDepth = max(1, fifoDepth)
        self.timing = timing
        self.lm32ClockHz = lm32ClockHz
        mpuClockHz = UInt64(timing.clockHz.rounded())
        self.engine = engine
        self.clock = clock
        sealing.key = key
        sealing.authenticator = key.map(RecordAuthenticator.init(deviceKey:))
        sealing.requestAuthenticator = key.map(RecordAuthenticator.requests)
        // The board's true random generator draws it at reset; a test or a reproducible run gives it.
        sealing.bootNonce = bootNonce ?? UInt64.random(in: .min ... .max)
    }

    deinit { runAhead?.stop() }

    /// Line 12: an alert waiting (bit 0 of IRQ_ENABLE) or a finished run (bit 1).
    public var interruptLevel: Bool {
        (status & Self.alert != 0 && interruptEnable & 1 != 0) || (status & Self.done != 0 && interruptEnable & 2 != 0)
    }

    /// LM32 cycles for `cycles` MPU cycles (rounded up: an event is never early).
    @inline(__always)
    func lm32Cycles(_ cycles: UInt64) -> UInt64 {
        if mpuClockHz == lm32ClockHz { return cycles }
        let (high, low) = cycles.multipliedFullWidth(by: lm32ClockHz)
        let (quotient, remainder) = mpuClockHz.dividingFullWidth((high, low))
        return quotient + (remainder > 0 ? 1 : 0)
    }

    /// The LM32 cycle of the next change the firmware could see (an alert or the end).
    public var nextEvent: UInt64? { nextEventCycle == .max ? nil : nextEventCycle }

    /// `nextEvent` (.max for none), kept up to date where it changes: it is asked on every
    /// access.
    private(set) var nextEventCycle: UInt64 = .max

    func scheduleNextEvent() {
        guard running, stalledSince == nil else {
            nextEventCycle = .max
            return
        }
        let target = nextQueued < queued.count ? fetchCycles + queued[nextQueued].due : startCycles
        nextEventCycle = startedAt + stalled + lm32Cycles(target)
    }

    /// Brings the START in progress up to LM32 cycle `now`.
    public func update(at now: UInt64) {
        guard nextEventCycle <= now else { return }
        while nextEventCycle <= now {
            let due = nextEventCycle
            if nextQueued < queued.count {
                if fifo.count < fifoDepth {
                    fifo.append(queued[nextQueued])
                    nextQueued += 1
                } else {
                    stalledSince = due
                }
            } else {
                running = false
                totalFetchCycles += pendingFetchCycles
                lastRuns = lastRunCount
                totalCycles += startCycles
                lastCycles = startCycles
                lastInstructions = pendingInstructions
                lastHostReads = pendingHostReads
                lastFaultedRuns = pendingFaultedRuns
                lastFault = pendingFault
                status = (status & ~Self.busy) | Self.done | (pendingFaultedRuns > 0 ? Self.fault : 0)
            }
            scheduleNextEvent()
        }
        updateAlertStatus()
    }

    func updateAlertStatus() {
        status = fifo.isEmpty ? status & ~Self.alert : status | Self.alert
    }

    /// The automaton in `slot`, decoded from program memory, for the current MODE.
    func runner(for slot: Slot, wordMode: Bool) -> PageRunner {
        let key = RunnerKey(slot: slot, wordMode: wordMode)
        if let runner = runners[key] { return runner }
        let start = Int(slot.base)
        let end = slot.length == 0 ? Self.programBytes : min(Self.programBytes, start + Int(slot.length))
        let automaton = Automaton(image: MPUImage(entry: slot.entry, code: fetchedCode(start, end)))
        var model = runTiming
        model.hostAccess = wordMode ? .word : .page
        // Compiling all of program memory would take long for nothing: an unbounded slot
        // (LENGTH 0) is interpreted. The engines give the same results.
        let runner = (try? PageRunner(automaton, timing: model, engine: slot.length == 0 ? .interpreter : engine))
            ?? PageRunner(interpreting: automaton, timing: model)
        runners[key] = runner
        return runner
    }

    /// The runner of list entry `index`, or of the single START (index `listCapacity`).
    @inline(__always)
    func runner(at index: Int) -> PageRunner {
        if let runner = cachedRunners[index] { return runner }
        let runner = runner(for: index < Self.listCapacity ? list[index] : single, wordMode: mode == 1)
        cachedRunners[index] = runner
        return runner
    }

    func forgetRunners(program: Bool = false) {
        for index in cachedRunners.indices { cachedRunners[index] = nil }
        plan += 1
        if program && !runners.isEmpty { runners.removeAll() }
    }

    /// START (one automaton: `single`) or START_LIST (the first `listCount` of `list`).
    func start(list fromList: Bool, at now: UInt64) {
        guard !running else { status |= Self.error; return }
        guard let range = ranges.first(where: { $0.offset(of: page) != nil }), let pageOffset = range.offset(of: page) else {
            status |= Self.error
            return
        }
        let count = fromList ? Int(listCount) : 1
        let wordMode = mode == 1
        let bytes = range.bytes + pageOffset
        // In page mode the page crosses PCIe into the MPU's page buffer before the first run
        // (every event comes that much later), unless the buffer holds it already: the
        // automata of one page share one fetch, as in the direct scanner's accounting.
        fetchCycles = 0
        if count > 0 {
            fetchCycles = !wordMode && bufferedPage != page ? UInt64(timing.pageFetchCycles) : 0
            bufferedPage = wordMode ? nil : page
        }
        func workOut() -> PageOutcome {
            PageOutcome(count: count, runner: { runner(at: fromList ? $0 : Self.listCapacity) }, source: { UInt32(fromList ? $0 : 0) },
                        page: bytes, address: page, scratch: &scratch)
        }
        let outcome: PageOutcome
        if fromList && count > 0 {
            let runAhead = self.runAhead ?? RunAhead(host: host)
            self.runAhead = runAhead
            outcome = runAhead.take(page: page, plan: plan) ?? workOut()
            runAhead.foresee(after: page, rangeStart: range.physicalStart, rangeEnd: range.physicalEnd, rangeBase: range.bytes, plan: {
                RunAhead.Plan(id: plan, runners: (0..<count).map { PageRunner(sharing: runner(at: $0)) })
            }, id: plan)
        } else {
            outcome = workOut()
        }
        queued = outcome.alerts
        if fromList && count > 0 { recordSweep(outcome.alerts, page: page) }
        lastRunCount = UInt32(count)
        nextQueued = 0
        pendingFetchCycles = fetchCycles
        pendingInstructions = outcome.instructions
        pendingHostReads = outcome.hostReads
        pendingFaultedRuns = outcome.faultedRuns
        pendingFault = outcome.lastFault
        startCycles = fetchCycles + outcome.cycles
        begin(at: now)
    }

    /// The work worked out (`queued`, `startCycles`, the pending results) starts at `now`.
    func begin(at now: UInt64) {
        running = true
        startedAt = now
        stalled = 0
        stalledSince = nil
        status = (status & ~(Self.done | Self.fault)) | Self.busy
        scheduleNextEvent()
    }

    /// The firmware took the oldest value: a stalled MPU resumes now.
    func pop(at now: UInt64) {
        guard !fifo.isEmpty else { return }
        fifo.removeFirst()
        if let since = stalledSince {
            stalled += now - since
            stalledSince = nil
            scheduleNextEvent()
        }
        updateAlertStatus()
        update(at: now)
    }

    func selectedRange() -> MemoryRange? {
        Int(rangeSelect) < ranges.count ? ranges[Int(rangeSelect)] : nil
    }

    func programWord(at address: UInt32) -> UInt32 {
        let at = Int(address)
        return program[at..<at + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    var selectedSlot: Slot {
        get { list[Int(listSelect)] }
        set { list[Int(listSelect)] = newValue }
    }

    public func read(_ offset: UInt32, size: Int) -> UInt32? {
        read(offset, size: size, now: clock())
    }

    public func write(_ offset: UInt32, size: Int, value: UInt32) -> Bool {
        write(offset, size: size, value: value, now: clock())
    }

    /// An access at LM32 cycle `now` (the SoC passes it: no call to `clock` per access).
    func read(_ offset: UInt32, size: Int, now: UInt64) -> UInt32? {
        guard size == 4 else { return nil }
        update(at: now)
        func low(_ v: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: v) }
        func high(_ v: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: v >> 32) }
        switch offset {
        case 0x00: return 0
        case 0x04: return status
        case 0x08: return interruptEnable
        case 0x0c: return mode
        case 0x10: return low(page)
        case 0x14: return high(page)
        case 0x18: return single.entry
        case 0x1c: return programAddress
        case 0x20:
            defer { programAddress = (programAddress &+ 4) % UInt32(Self.programBytes) }
            return programWord(at: programAddress)
        case 0x24: return low(fifo.first?.value ?? 0)
        case 0x28: return high(fifo.first?.value ?? 0)
        case 0x2c: return 0
        case 0x30: return low(lastCycles)
        case 0x34: return high(lastCycles)
        case 0x38: return low(lastInstructions)
        case 0x3c: return low(lastHostReads)
        case 0x40: return lastFault.map { UInt32(FaultKind.allCases.firstIndex(of: $0.kind)! + 1) } ?? 0
        case 0x44: return UInt32(ranges.count)
        case 0x48: return rangeSelect
        case 0x4c: return selectedRange().map { low($0.physicalStart) } ?? 0
        case 0x50: return selectedRange().map { high($0.physicalStart) } ?? 0
        case 0x54: return selectedRange().map { low($0.physicalEnd) } ?? 0
        case 0x58: return selectedRange().map { high($0.physicalEnd) } ?? 0
        case 0x5c: return UInt32(fifo.count)
        case 0x60: return single.base
        case 0x64:
            latchedTimeHigh = high(now)
            return low(now)
        case 0x68: return latchedTimeHigh
        case 0x6c: return low(fifo.first?.cycle ?? 0)
        case 0x70: return high(fifo.first?.cycle ?? 0)
        case 0x74: return single.length
        case 0x78: return listCount
        case 0x7c: return listSelect
        case 0x80: return selectedSlot.base
        case 0x84: return selectedSlot.entry
        case 0x88: return selectedSlot.length
        case 0x8c: return fifo.first?.source ?? 0
        case 0x90: return lastFaultedRuns
        case 0x94: return UInt32(followRules.count)
        case 0x98: return catalogCount
        case 0x9c: return fifo.first?.origin.rawValue ?? 0
        case 0xa0: return low(fifo.first?.page ?? 0)
        case 0xa4: return high(fifo.first?.page ?? 0)
        case 0xa8: return lastRuns
        case 0xd0: return low(hostAddress)
        case 0xd4: return high(hostAddress)
        case 0xd8: return readHostWord()
        case 0xdc: return 0
        case 0xe0...0xfc where offset % 4 == 0: return pageDigest[Int(offset - 0xe0) / 4]
        default: return readSealing(offset)
        }
    }

    /// Program-memory addresses (BASE, ENTRY, LENGTH) are byte offsets of whole instructions.
    static func instructionOffset(_ value: UInt32) -> UInt32 { value % UInt32(programBytes) & ~7 }

    func write(_ offset: UInt32, size: Int, value: UInt32, now: UInt64) -> Bool {
        guard size == 4 else { return false }
        update(at: now)
        switch offset {
        case 0x00:
            if value & 1 != 0 { start(list: false, at: now) }
            if value & 2 != 0 { start(list: true, at: now) }
            if value & 4 != 0 { startFollowUps(at: now) }
        case 0x04: status &= ~(value & (Self.done | Self.fault | Self.error))
        case 0x08: interruptEnable = value & 3
        case 0x0c:
            if mode != value & 1 { forgetRunners() }
            mode = value & 1
        case 0x10: page = (page & 0xffff_ffff_0000_0000) | UInt64(value & ~0xfff)
        case 0x14: page = (page & 0xffff_ffff) | UInt64(value) << 32
        case 0x18:
            single.entry = Self.instructionOffset(value)
            cachedRunners[Self.listCapacity] = nil
        case 0x1c: programAddress = value % UInt32(Self.programBytes) & ~3
        case 0x20:
            // A sealed set's code is the checker's own: the LM32 may not replace it.
            guard !isSealed else { status |= Self.error; break }
            let at = Int(programAddress)
            for k in 0..<4 { program[at + k] = UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * k)) }
            programAddress = (programAddress &+ 4) % UInt32(Self.programBytes)
            forgetRunners(program: true)
        case 0x24, 0x28, 0x30, 0x34, 0x38, 0x3c, 0x40, 0x44, 0x4c, 0x50, 0x54, 0x58, 0x5c, 0x64, 0x68, 0x6c, 0x70, 0x8c, 0x90,
             0x9c, 0xa0, 0xa4, 0xa8: break   // read-only
        case 0x94: writeFollowRule(value)
        case 0x98:
            catalogCount = min(value, UInt32(Self.listCapacity))
        case 0x2c: pop(at: now)
        case 0x48: rangeSelect = value
        case 0xd0: hostAddress = (hostAddress & 0xffff_ffff_0000_0000) | UInt64(value)
        case 0xd4: hostAddress = (hostAddress & 0xffff_ffff) | UInt64(value) << 32
        case 0xdc: digestHostPage()
        case 0xd8, 0xe0...0xfc: break   // read-only
        case 0x60:
            single.base = Self.instructionOffset(value)
            cachedRunners[Self.listCapacity] = nil
        case 0x74:
            single.length = Self.instructionOffset(value)
            cachedRunners[Self.listCapacity] = nil
        case 0x78:
            listCount = min(value, UInt32(Self.listCapacity))
            plan += 1
        case 0x7c: listSelect = value % UInt32(Self.listCapacity)
        case 0x80:
            selectedSlot.base = Self.instructionOffset(value)
            cachedRunners[Int(listSelect)] = nil
            plan += 1
        case 0x84:
            selectedSlot.entry = Self.instructionOffset(value)
            cachedRunners[Int(listSelect)] = nil
            plan += 1
        case 0x88:
            selectedSlot.length = Self.instructionOffset(value)
            cachedRunners[Int(listSelect)] = nil
            plan += 1
        default: return writeSealing(offset, value: value)
        }
        return true
    }
}
