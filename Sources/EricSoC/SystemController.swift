import LM32Sim

/// The Milkymist sysctl (docs/soc.md): GPIO, two timers, ids.
/// 32-bit accesses only. The timers count CPU cycles: `clock` gives the current cycle, and
/// `poll` (called by the SoC between slices of execution) reports the timers that reached
/// their COMPARE since the last poll, whose lines (2 and 3) the SoC pulses into IP.
///   0x00 GPIO_IN (RO)   0x04 GPIO_OUT   0x08 GPIO_INTEN
///   0x10/0x20 TIMERn_CONTROL (bit 0 ENABLE, bit 1 AUTORESTART)
///   0x14/0x24 TIMERn_COMPARE            0x18/0x28 TIMERn_COUNTER (counts up to COMPARE)
///   0x40 ICAP (reads 1, ready)  0x50 DBG_SCRATCHPAD  0x54 DBG_WRITE_LOCK (any write sets 1)
///   0x74 CLK_FREQUENCY (RO)     0x78 CAPABILITIES (RO)  0x7c SYSTEM_ID (RO; a write asks for reset)
///   0x60 IDLE (ERIC's addition): a write sleeps the CPU until an interrupt is due
public final class SystemController: BusDevice {
    public static let timerLines = [2, 3]
    public var waitStates: Int { 0 }

    public struct Timer: Sendable, Equatable {
        public var control: UInt32 = 0
        public var compare: UInt32 = 0
        /// COUNTER at `since` (the cycle it was last written, started or restarted).
        var counter: UInt32 = 0
        var since: UInt64 = 0
        var enabled: Bool { control & 1 != 0 }
    }

    public private(set) var timers = [Timer(), Timer()] {
        didSet { anyTimerEnabled = timers[0].enabled || timers[1].enabled }
    }
    /// Asked on every device access: with both timers stopped (the usual case) there is
    /// nothing to compute.
    private(set) var anyTimerEnabled = false
    public let clockFrequency: UInt32
    public let gpioIn: UInt32
    public private(set) var gpioOut: UInt32 = 0
    public private(set) var gpioInterruptEnable: UInt32 = 0
    public private(set) var scratchpad: UInt32 = 0
    public private(set) var writeLock: UInt32 = 0
    /// Set when the firmware writes SYSTEM_ID or shuts down through ICAP; the SoC acts on it.
    public private(set) var resetRequested = false
    public private(set) var shutdownRequested = false
    /// ERIC's addition at 0x60 (IDLE): the firmware asks to sleep until an interrupt is due,
    /// as a clock-gated core would; the SoC then skips to the next device event.
    public var idleRequested = false
    public static let capabilities: UInt32 = 0x0000_041f
    public static let systemID: UInt32 = 0x1001_4d31
    /// The current CPU cycle.
    public var clock: () -> UInt64

    public init(clockFrequency: UInt32 = 80_000_000, gpioIn: UInt32 = 1, clock: @escaping () -> UInt64 = { 0 }) {
        self.clockFrequency = clockFrequency
        self.gpioIn = gpioIn
        self.clock = clock
    }

    /// COUNTER as the firmware reads it now. A counter above COMPARE counts on through the
    /// 32-bit wrap to reach it.
    func counter(_ index: Int, at now: UInt64) -> UInt32 {
        let timer = timers[index]
        guard timer.enabled else { return timer.counter }
        let distance = UInt64(timer.compare &- timer.counter)
        let elapsed = now &- timer.since
        return elapsed >= distance ? timer.compare : timer.counter &+ UInt32(elapsed)
    }

    /// The cycle at which an enabled timer reaches COMPARE.
    public func nextHit(_ index: Int) -> UInt64? {
        let timer = timers[index]
        guard timer.enabled else { return nil }
        return timer.since + UInt64(timer.compare &- timer.counter)
    }

    /// The earliest cycle at which `poll` will have something to report.
    public var nextEvent: UInt64? { anyTimerEnabled ? earliest(nextHit(0), nextHit(1)) : nil }

    /// Timers that reached COMPARE by cycle `now`: each stops, or restarts from 0 with
    /// AUTORESTART (as many hits as fit). Returns the lines to pulse.
    public func poll(at now: UInt64) -> [Int] {
        guard let next = nextEvent, next <= now else { return [] }    // the common case: nothing due
        var lines: [Int] = []
        for index in 0..<2 {
            while let hit = nextHit(index), hit <= now {
                lines.append(Self.timerLines[index])
                timers[index].counter = 0
                timers[index].since = hit
                if timers[index].control & 2 == 0 {
                    timers[index].control &= ~1
                    timers[index].counter = timers[index].compare
                }
                if timers[index].compare == 0 && timers[index].enabled { timers[index].control &= ~1; break }   // no endless zero-length periods
            }
        }
        return lines
    }

    public func read(_ offset: UInt32, size: Int) -> UInt32? {
        guard size == 4 else { return nil }
        let now = clock()
        switch offset {
        case 0x00: return gpioIn
        case 0x04: return gpioOut
        case 0x08: return gpioInterruptEnable
        case 0x10, 0x20: return timers[Int(offset - 0x10) / 0x10].control
        case 0x14, 0x24: return timers[Int(offset - 0x14) / 0x10].compare
        case 0x18, 0x28: return counter(Int(offset - 0x18) / 0x10, at: now)
        case 0x40: return 1
        case 0x50: return scratchpad
        case 0x54: return writeLock
        case 0x74: return clockFrequency
        case 0x78: return Self.capabilities
        case 0x7c: return Self.systemID
        case 0x60: return 0
        default: return nil
        }
    }

    public func write(_ offset: UInt32, size: Int, value: UInt32) -> Bool {
        guard size == 4 else { return false }
        let now = clock()
        switch offset {
        case 0x04: gpioOut = value
        case 0x08: gpioInterruptEnable = value
        case 0x10, 0x20:
            let index = Int(offset - 0x10) / 0x10
            timers[index].counter = counter(index, at: now)       // freeze or start counting from here
            timers[index].since = now
            timers[index].control = value & 3
        case 0x14, 0x24: timers[Int(offset - 0x14) / 0x10].compare = value
        case 0x18, 0x28:
            let index = Int(offset - 0x18) / 0x10
            timers[index].counter = value
            timers[index].since = now
        case 0x40: if value & 0xffff == 0x000e { shutdownRequested = true }
        case 0x50: scratchpad = value
        case 0x54: writeLock = 1
        case 0x7c: resetRequested = true
        case 0x60: idleRequested = true
        case 0x00, 0x74, 0x78: break                               // read-only: writes ignored
        default: return false
        }
        return true
    }
}

/// The earlier of two optional cycles (no array: this runs on every device access).
@inline(__always)
func earliest(_ a: UInt64?, _ b: UInt64?) -> UInt64? {
    guard let a else { return b }
    guard let b else { return a }
    return min(a, b)
}
