import ELF32
import LM32Sim
import MPUISA
import MPUSim
import Sealing

/// The ERIC system-on-chip: the LM32, ROM, RAM and the devices at the addresses of
/// docs/soc.md, with their interrupt lines wired into the CPU. `run` advances the CPU up to the
/// devices' next timed event, delivers it, and goes on.
public final class SoC {
    public enum Address {
        public static let rom: UInt32 = 0x0000_0000
        public static let ram: UInt32 = 0x4000_0000
        public static let ethernetBuffers: UInt32 = 0xb000_0000
        public static let uart: UInt32 = 0xe000_0000
        public static let sysctl: UInt32 = 0xe000_1000
        public static let ethernet: UInt32 = 0xe000_8000
        public static let checker: UInt32 = 0xe000_9000
        /// In ROM: the automata table the firmware loads into the MPU (`installAutomata`).
        public static let automataTable: UInt32 = 0x0008_0000
    }

    public struct Configuration: Sendable {
        public var romSize: UInt32 = 1 << 20
        public var ramSize: UInt32 = 16 << 20
        public var clockHz: UInt64 = 80_000_000
        public var timing: TimingModel = .slides
        /// How the host runs the checker's automata (the results are the same).
        public var engine: Engine = .automatic
        /// The device key the checker is made with (docs/security.md); nil: a board that takes no
        /// sealed automata.
        public var key: DeviceKey?
        /// The nonce the checker's random generator draws at reset, which a keyed board's records
        /// carry (docs/protocol.md); nil: a random one. Give it only to reproduce a run.
        public var bootNonce: UInt64?
        /// The control strapping (sysctl GPIO_IN bit 1): the firmware serves the control channel
        /// (docs/protocol.md, "Control") instead of sweeping once at power-on.
        public var controlChannel = false
        public init() {}
    }

    public let cpu: LM32CPU
    public let bus = Bus()
    public let rom: Memory
    public let ram: Memory
    public let uart: UART
    public let sysctl: SystemController
    public let ethernet: EthernetMAC
    public let checker: Checker
    /// Cycles the CPU slept (IDLE) instead of running.
    public private(set) var idleCycles: UInt64 = 0

    /// Why `run` returned.
    public enum Stop: Equatable, Sendable {
        /// The firmware asked the sysctl to shut down (ICAP 0x000E).
        case shutdown
        /// The instruction budget is spent.
        case budget
        /// The CPU stopped (an illegal instruction, or `break` under a debugger).
        case cpu(LM32Stop)
        /// The firmware went idle with nothing left that could wake it.
        case asleep
    }

    /// Builds the SoC with `firmware` in ROM (loaded as an ELF executable) over `host` memory.
    public init(firmware: ELF32File, host: any PhysicalMemory, configuration: Configuration = Configuration(),
                console: @escaping (UInt8) -> Void = { _ in }, frames: @escaping ([UInt8]) -> Void = { _ in }) throws(BusError) {
        rom = Memory(size: Int(configuration.romSize), writable: false)
        ram = Memory(size: Int(configuration.ramSize))
        let cpu = LM32CPU(bus: bus, resetVector: firmware.entry)
        self.cpu = cpu
        uart = UART(transmit: console)
        sysctl = SystemController(clockFrequency: UInt32(configuration.clockHz), gpioIn: configuration.controlChannel ? 3 : 1,
                                  clock: { cpu.cycles })
        ethernet = EthernetMAC(clockHz: configuration.clockHz, clock: { cpu.cycles }, transmit: frames)
        checker = Checker(host: host, timing: configuration.timing, lm32ClockHz: configuration.clockHz, engine: configuration.engine,
                          key: configuration.key, bootNonce: configuration.bootNonce, clock: { cpu.cycles })
        try bus.attach(rom, at: Address.rom, size: configuration.romSize, name: "rom")
        try bus.attach(ram, at: Address.ram, size: configuration.ramSize, name: "ram")
        try bus.attach(ethernet.buffers, at: Address.ethernetBuffers, size: UInt32(ethernet.buffers.count), name: "ethernet buffers")
        // Every register access may change a line: the lines follow at once, so an interrupt
        // the firmware just cleared at its source is not latched again from a stale level.
        let window = DeviceWindow(soc: self)
        try bus.attach(window, at: Address.uart, size: DeviceWindow.size, name: "devices")
        cpu.mapIO(window, base: Address.uart, size: DeviceWindow.size)
        try bus.load(firmware)
    }

    /// The automata table of `images` (AutomataTable.swift): the sweep's automata first (those
    /// marked `.followup` run only when asked, and come last), each with its `.alert` values
    /// (for the records' name ids) and its follow rules (FOLLOW_RULE words: the `.follow` and
    /// `.operand` lines, slots counted in this table). `names`: how follow rules name the
    /// automata (default: their `.automaton` names).
    public static func table(_ images: [MPUImage], names: [String]? = nil) throws(BusError) -> AutomataTable {
        let total = images.reduce(0) { $0 + $1.code.count }
        guard total <= Checker.programBytes else {
            throw BusError(description: "the automata need \(total) bytes of MPU program memory; it has \(Checker.programBytes)")
        }
        guard images.count <= Checker.listCapacity else {
            throw BusError(description: "\(images.count) automata; the checker's list holds \(Checker.listCapacity)")
        }
        let sweepCount = images.prefix { !$0.metadata.followUpOnly }.count
        guard images.dropFirst(sweepCount).allSatisfy(\.metadata.followUpOnly) else {
            throw BusError(description: "the automata that run only as follow-ups (.followup) must come after the others")
        }
        let names = names ?? images.map { $0.metadata.name ?? "" }
        var entries: [AutomataTable.Entry] = []
        for (slot, image) in images.enumerated() {
            var rules: [UInt32] = []
            // A rule naming an automaton not installed asks for nothing (as in the direct scan).
            for follow in image.metadata.follows {
                guard let target = names.firstIndex(of: follow.automaton) else { continue }
                rules.append(Checker.FollowRule(source: slot, value: try ruleValue(follow.value, names[slot]), kind: .follow,
                                                target: target, depth: follow.depth).word)
            }
            for operand in image.metadata.operands {
                rules.append(Checker.FollowRule(source: slot, value: try ruleValue(operand, names[slot]), kind: .operand).word)
            }
            entries.append(AutomataTable.Entry(entry: image.entry, alerts: image.metadata.alerts.map { UInt32(truncatingIfNeeded: $0.value) },
                                               rules: rules, code: image.code))
        }
        return AutomataTable(entries: entries, sweepCount: sweepCount)
    }

    /// Writes the automata table (`table(_:names:)`) into ROM for the firmware, at 0x0008_0000.
    public func installAutomata(_ images: [MPUImage], names: [String]? = nil) throws(BusError) {
        let table = try Self.table(images, names: names).bytes
        guard UInt64(Address.automataTable) + UInt64(table.count) <= UInt64(rom.count) else {
            throw BusError(description: "the automata table (\(table.count) bytes) does not fit in ROM above 0x\(String(Address.automataTable, radix: 16))")
        }
        try bus.load(table, at: Address.automataTable)
    }

    /// The checker's rules hold 8-bit alert values.
    private static func ruleValue(_ value: UInt64, _ automaton: String) throws(BusError) -> UInt8 {
        guard value > 0, value < 256 else {
            throw BusError(description: "automaton \(automaton): alert 0x\(String(value, radix: 16)) of a .follow or .operand line is not 1-255, what the checker's follow rules hold")
        }
        return UInt8(value)
    }

    /// Levels into `interruptLines`; pulses (timers, Ethernet TX) latched straight into IP.
    func refreshLines() {
        let now = cpu.cycles
        checker.update(at: now)
        var levels: UInt32 = 0
        if uart.interruptLevel { levels |= 1 << UInt32(UART.interruptLine) }
        if ethernet.receiveLevel { levels |= 1 << UInt32(EthernetMAC.receiveLine) }
        if checker.interruptLevel { levels |= 1 << UInt32(Checker.interruptLine) }
        var pulses: UInt32 = 0
        if sysctl.anyTimerEnabled {
            for line in sysctl.poll(at: now) { pulses |= 1 << UInt32(line) }
        }
        if ethernet.transmitPulse {
            pulses |= 1 << UInt32(EthernetMAC.transmitLine)
            ethernet.transmitPulse = false
        }
        if pulses != 0 { cpu.ip |= pulses }
        if cpu.interruptLines != levels { cpu.interruptLines = levels }
        // A timer started or a run begun while the CPU runs: end its slice at the event; an
        // idle or shutdown request ends it at once.
        let next = sysctl.idleRequested || sysctl.shutdownRequested ? cpu.cycles : nextEvent
        if next < cpu.stopAtCycle { cpu.stopAtCycle = next }
    }

    /// `refreshLines` after a checker access, which can change only the checker's line and
    /// its next event (the firmware's most frequent accesses: ten a page).
    func refreshCheckerLine() {
        checker.update(at: cpu.cycles)
        let bit: UInt32 = 1 << UInt32(Checker.interruptLine)
        let levels = checker.interruptLevel ? cpu.interruptLines | bit : cpu.interruptLines & ~bit
        if cpu.interruptLines != levels { cpu.interruptLines = levels }
        if let next = checker.nextEvent, next < cpu.stopAtCycle { cpu.stopAtCycle = next }
    }

    /// Whether an unmasked line is pending, whatever IE says: IDLE wakes on it as ARM's WFI
    /// does, so firmware can test its flag with interrupts off and sleep without losing a wake-up.
    var interruptDue: Bool { (cpu.ip | cpu.interruptLines) & cpu.im != 0 }

    /// IDLE: skip the clock from device event to device event until an unmasked line is
    /// pending. Returns false when nothing can wake the CPU (no event left, or a million events
    /// in a row that raise only masked lines, such as a masked periodic timer).
    func sleepIfIdle() -> Bool {
        guard sysctl.idleRequested else { return true }
        sysctl.idleRequested = false
        var events = 0
        while !interruptDue {
            let wake = nextEvent
            guard wake != .max, events < 1_000_000 else { return false }
            if wake > cpu.cycles {
                idleCycles += wake - cpu.cycles
                cpu.cycles = wake
            }
            refreshLines()
            events += 1
        }
        return true
    }

    /// The earliest cycle at which a device changes on its own.
    var nextEvent: UInt64 {
        earliest(sysctl.nextEvent, checker.nextEvent) ?? .max
    }

    /// Runs up to `budget` instructions, or until the firmware shuts down or the CPU stops.
    public func run(budget: UInt64 = .max) -> Stop {
        var left = budget
        while left > 0 {
            refreshLines()
            if sysctl.shutdownRequested { return .shutdown }
            // (Sleeping ends with the lines refreshed: no refresh needed before running.)
            guard sleepIfIdle() else { return .asleep }
            let before = cpu.steps
            let stop = cpu.run(budget: min(left, 1 << 20), untilCycle: nextEvent)
            left -= min(left, max(cpu.steps - before, 1))
            if stop != .budget { return .cpu(stop) }
        }
        refreshLines()
        return sysctl.shutdownRequested ? .shutdown : .budget
    }
}

/// The device registers (0xE000_0000 up to 0xE001_0000), one bus mapping: an access goes
/// straight to the device of its 4 KiB slot (UART 0, sysctl 1, Ethernet 8, checker 9; the
/// other slots are bus errors), then the SoC refreshes its lines.
final class DeviceWindow: BusDevice {
    static let size: UInt32 = 0x1_0000
    /// The SoC owns the bus that owns this window, so it outlives it (unowned(unsafe): no
    /// reference counting on every device access).
    unowned(unsafe) let soc: SoC
    let waitStates = 0
    init(soc: SoC) { self.soc = soc }

    func read(_ offset: UInt32, size: Int) -> UInt32? { soc.readDevice(offset, size: size) }
    func write(_ offset: UInt32, size: Int, value: UInt32) -> Bool { soc.writeDevice(offset, size: size, value: value) }
}

extension SoC {
    /// A device register read through `DeviceWindow` (offset from 0xE000_0000).
    func readDevice(_ offset: UInt32, size: Int) -> UInt32? {
        let register = offset & 0xfff
        let value: UInt32?
        switch offset >> 12 {
        case 0x0: value = uart.read(register, size: size)
        case 0x1: value = sysctl.read(register, size: size)
        case 0x8: value = ethernet.read(register, size: size)
        case 0x9:
            value = checker.read(register, size: size, now: cpu.cycles)
            refreshCheckerLine()
            return value
        default: return nil
        }
        refreshLines()
        return value
    }

    func writeDevice(_ offset: UInt32, size: Int, value: UInt32) -> Bool {
        let register = offset & 0xfff
        let accepted: Bool
        switch offset >> 12 {
        case 0x0: accepted = uart.write(register, size: size, value: value)
        case 0x1: accepted = sysctl.write(register, size: size, value: value)
        case 0x8: accepted = ethernet.write(register, size: size, value: value)
        case 0x9:
            accepted = checker.write(register, size: size, value: value, now: cpu.cycles)
            refreshCheckerLine()
            return accepted
        default: return false
        }
        refreshLines()
        return accepted
    }
}

extension SoC {
    /// The order the checker's slots hold `automata` in, which alert records name them by: the
    /// sweep's automata first, then those that run only as follow-ups (`.followup`).
    public static func slotOrder(_ automata: [Automaton]) -> [Automaton] {
        automata.filter { !$0.metadata.followUpOnly } + automata.filter(\.metadata.followUpOnly)
    }

    /// Installs `automata` in slot order, their follow rules naming each other by name.
    public func installAutomata(_ automata: [Automaton]) throws(BusError) {
        let ordered = Self.slotOrder(automata)
        try installAutomata(ordered.map(\.image), names: ordered.map(\.name))
    }
}
