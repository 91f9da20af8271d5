import LM32Sim
import MPUISA
import MPUSim

/// The checker: the MPU as the LM32 firmware drives it (docs/soc.md, "Checker"). The firmware
/// loads automata into the MPU's 64 KiB program memory, chooses the entry point, the host
/// access mode and the page, starts the MPU and takes its interrupts.
///
/// Time: a run is simulated whole when it starts (an automaton's course depends only on the
/// page), then released over LM32 cycles. Each non-zero `int` puts its value in the
/// interrupt FIFO at the cycle it ran and the MPU goes on (docs/timing.md); only when the FIFO
/// is full does the MPU stall until the firmware pops a value, so a slow handler slows the
/// scan as it would on the board, and no alert is ever lost.
public final class Checker: BusDevice {
    public static let interruptLine = 12
    public static let programBytes = 64 * 1024
    public var waitStates: Int { 0 }

    /// Host physical memory (the dump), reached over PCIe.
    public let host: any PhysicalMemory
    /// The MPU's timing (clock, PCIe costs); MODE chooses its host access.
    public let timing: TimingModel
    /// LM32 cycles per second, to turn MPU cycles into LM32 cycles.
    public let lm32ClockHz: UInt64
    /// The current LM32 cycle.
    public var clock: () -> UInt64

    public private(set) var program = [UInt8](repeating: 0, count: Checker.programBytes)
    var programGeneration = 0
    /// Automata decoded from program memory, by (base, entry); emptied when it is written.
    var compiled: [UInt64: Automaton] = [:]
    var compiledGeneration = 0

    public private(set) var status: UInt32 = 0
    public private(set) var interruptEnable: UInt32 = 0
    public private(set) var mode: UInt32 = 0
    public private(set) var page: UInt64 = 0
    public private(set) var entry: UInt32 = 0
    /// Where the running automaton's code starts in program memory: the MPU's addresses
    /// (its pc, its jump targets) count from there, so automata assembled at 0 run anywhere.
    public private(set) var base: UInt32 = 0
    public private(set) var programAddress: UInt32 = 0
    public private(set) var rangeSelect: UInt32 = 0
    /// The last finished run: MPU cycles (page fetch included), instructions, host reads, fault.
    public private(set) var lastRun = RunResult()
    public private(set) var lastRunCycles: UInt64 = 0
    /// The page the MPU's page buffer holds (page mode).
    var bufferedPage: UInt64?

    /// A run in progress: its alerts and where their release stands.
    struct ActiveRun {
        var alerts: [Alert]
        var result: RunResult
        var totalCycles: UInt64
        var startedAt: UInt64
        /// LM32 cycles lost to stalls on a full FIFO so far.
        var stalled: UInt64 = 0
        /// The next alert to enter the FIFO; the cycle the MPU stalled at it, if the FIFO was full.
        var next = 0
        var stalledSince: UInt64?
    }
    var active: ActiveRun?
    /// Alerts waiting for the firmware, oldest first: the value and the cycle of its run at
    /// which the `int` ran (as the direct scanner's findings count it: page fetch excluded).
    public private(set) var fifo: [(value: UInt64, cycle: UInt64)] = []
    /// TIME_HI as latched by the last read of TIME_LO, so the pair reads one instant.
    var latchedTimeHigh: UInt32 = 0
    public let fifoDepth: Int

    public static let busy: UInt32 = 1, done: UInt32 = 2, alert: UInt32 = 4, fault: UInt32 = 8, error: UInt32 = 16

    public init(host: any PhysicalMemory, timing: TimingModel = .slides, lm32ClockHz: UInt64 = 80_000_000, fifoDepth: Int = 16,
                clock: @escaping () -> UInt64 = { 0 }) {
        self.host = host
        self.fifoDepth = max(1, fifoDepth)
        self.timing = timing
        self.lm32ClockHz = lm32ClockHz
        self.clock = clock
    }

    /// Line 12: an alert waiting (bit 0 of IRQ_ENABLE) or a finished run (bit 1).
    public var interruptLevel: Bool {
        (status & Self.alert != 0 && interruptEnable & 1 != 0) || (status & Self.done != 0 && interruptEnable & 2 != 0)
    }

    /// LM32 cycles for `cycles` MPU cycles (rounded up: an event is never early).
    func lm32Cycles(_ cycles: UInt64) -> UInt64 {
        let mpuHz = UInt64(timing.clockHz.rounded())
        let (high, low) = cycles.multipliedFullWidth(by: lm32ClockHz)
        let (quotient, remainder) = mpuHz.dividingFullWidth((high, low))
        return quotient + (remainder > 0 ? 1 : 0)
    }

    /// The LM32 cycle of the next change the firmware could see (an alert or the end).
    public var nextEvent: UInt64? {
        guard let run = active, run.stalledSince == nil else { return nil }
        let target = run.next < run.alerts.count ? run.alerts[run.next].cycle : run.totalCycles
        return run.startedAt + run.stalled + lm32Cycles(target)
    }

    /// Brings the run up to LM32 cycle `now`.
    public func update(at now: UInt64) {
        while let due = nextEvent, due <= now, var run = active {
            if run.next < run.alerts.count {
                if fifo.count < fifoDepth {
                    fifo.append((run.alerts[run.next].value, UInt64(run.alerts[run.next].pc)))
                    run.next += 1
                } else {
                    run.stalledSince = due
                }
                active = run
            } else {
                lastRun = run.result
                lastRunCycles = run.totalCycles
                status = (status & ~Self.busy) | Self.done | (run.result.fault != nil ? Self.fault : 0)
                active = nil
            }
        }
        status = fifo.isEmpty ? status & ~Self.alert : status | Self.alert
    }

    func start(at now: UInt64) {
        guard active == nil else { status |= Self.error; return }
        guard let range = host.ranges.first(where: { $0.physicalStart <= page && page + 4096 <= $0.physicalEnd }) else {
            status |= Self.error
            return
        }
        if compiledGeneration != programGeneration {
            compiled = [:]
            compiledGeneration = programGeneration
        }
        let key = UInt64(base) << 32 | UInt64(entry)
        let automaton = compiled[key] ?? Automaton(image: MPUImage(entry: entry, code: Array(program[Int(base)...])))
        compiled[key] = automaton
        var model = timing
        model.hostAccess = mode == 1 ? .word : .page
        var alerts: [Alert] = []
        let result = MPU(timing: model).run(automaton, page: range.bytes + Int(page - range.physicalStart), pageAddress: page, alerts: &alerts)
        // In page mode the page crosses PCIe into the MPU's page buffer before the run (every
        // event comes that much later), unless the buffer holds it already: the automata of
        // one page share one fetch, as in the direct scanner's accounting.
        let fetch = model.hostAccess == .page && bufferedPage != page ? UInt64(model.pageFetchCycles) : 0
        bufferedPage = model.hostAccess == .page ? page : nil
        // `pc` keeps the cycle within the run (what the firmware reports); `cycle` is when the
        // alert reaches the FIFO.
        alerts = alerts.filter { $0.value != 0 }.map { Alert(value: $0.value, pc: Int($0.cycle), cycle: $0.cycle + fetch) }
        active = ActiveRun(alerts: alerts, result: result, totalCycles: result.cycles + fetch, startedAt: now)
        status = (status & ~(Self.done | Self.fault)) | Self.busy
    }

    /// The firmware took the oldest value: a stalled MPU resumes now.
    func pop(at now: UInt64) {
        guard !fifo.isEmpty else { return }
        fifo.removeFirst()
        if var run = active, let since = run.stalledSince {
            run.stalled += now - since
            run.stalledSince = nil
            active = run
        }
        update(at: now)
    }

    func selectedRange() -> MemoryRange? {
        let ranges = host.ranges
        return Int(rangeSelect) < ranges.count ? ranges[Int(rangeSelect)] : nil
    }

    public func read(_ offset: UInt32, size: Int) -> UInt32? {
        guard size == 4 else { return nil }
        update(at: clock())
        func low(_ v: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: v) }
        func high(_ v: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: v >> 32) }
        switch offset {
        case 0x00: return 0
        case 0x04: return status
        case 0x08: return interruptEnable
        case 0x0c: return mode
        case 0x10: return low(page)
        case 0x14: return high(page)
        case 0x18: return entry
        case 0x1c: return programAddress
        case 0x20:
            let at = Int(programAddress) % Self.programBytes
            programAddress = (programAddress &+ 4) % UInt32(Self.programBytes)
            return program[at..<at + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        case 0x24: return low(fifo.first?.value ?? 0)
        case 0x28: return high(fifo.first?.value ?? 0)
        case 0x2c: return 0
        case 0x30: return low(lastRunCycles)
        case 0x34: return high(lastRunCycles)
        case 0x38: return low(lastRun.instructions)
        case 0x3c: return low(lastRun.hostReads)
        case 0x40: return lastRun.fault.map { UInt32(FaultKind.allCases.firstIndex(of: $0.kind)! + 1) } ?? 0
        case 0x44: return UInt32(host.ranges.count)
        case 0x48: return rangeSelect
        case 0x4c: return selectedRange().map { low($0.physicalStart) } ?? 0
        case 0x50: return selectedRange().map { high($0.physicalStart) } ?? 0
        case 0x54: return selectedRange().map { low($0.physicalEnd) } ?? 0
        case 0x58: return selectedRange().map { high($0.physicalEnd) } ?? 0
        case 0x5c: return UInt32(fifo.count)
        case 0x60: return base
        case 0x64:
            let now = clock()
            latchedTimeHigh = high(now)
            return low(now)
        case 0x68: return latchedTimeHigh
        case 0x6c: return low(fifo.first?.cycle ?? 0)
        case 0x70: return high(fifo.first?.cycle ?? 0)
        default: return nil
        }
    }

    public func write(_ offset: UInt32, size: Int, value: UInt32) -> Bool {
        guard size == 4 else { return false }
        let now = clock()
        update(at: now)
        switch offset {
        case 0x00: if value & 1 != 0 { start(at: now) }
        case 0x04: status &= ~(value & (Self.done | Self.fault | Self.error))
        case 0x08: interruptEnable = value & 3
        case 0x0c: mode = value & 1
        case 0x10: page = (page & 0xffff_ffff_0000_0000) | UInt64(value & ~0xfff)
        case 0x14: page = (page & 0xffff_ffff) | UInt64(value) << 32
        case 0x18: entry = value % UInt32(Self.programBytes) & ~7
        case 0x1c: programAddress = value % UInt32(Self.programBytes) & ~3
        case 0x20:
            let at = Int(programAddress)
            for k in 0..<4 { program[at + k] = UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * k)) }
            programAddress = (programAddress &+ 4) % UInt32(Self.programBytes)
            programGeneration += 1
        case 0x24, 0x28, 0x30, 0x34, 0x38, 0x3c, 0x40, 0x44, 0x4c, 0x50, 0x54, 0x58, 0x5c, 0x64, 0x68, 0x6c, 0x70: break   // read-only
        case 0x2c: pop(at: now)
        case 0x48: rangeSelect = value
        case 0x60: base = value % UInt32(Self.programBytes) & ~7
        default: return false
        }
        return true
    }
}
