import LM32Sim

/// An LM32 CPU as GDB sees it: 39 32-bit big-endian registers, r0-r31 then PC, EID, EBA, DEBA,
/// IE, IM, IP (gdb/lm32-tdep.c; 156 bytes in `g`), and `break` as the software breakpoint.
public final class LM32DebugTarget: DebugTarget {
    public static let registerCount = 39
    public static let breakWord: UInt32 = 0xac00_0002
    public let cpu: LM32CPU
    /// Original words under the breakpoints inserted, by address.
    public private(set) var breakpoints: [UInt32: [UInt8]] = [:]

    /// How the machine runs: the bare CPU, or a system that also advances its devices.
    let runMachine: (UInt64) -> LM32Stop

    public init(cpu: LM32CPU, run: ((UInt64) -> LM32Stop)? = nil) {
        self.cpu = cpu
        runMachine = run ?? { cpu.run(budget: $0) }
        cpu.debuggerOwnsBreak = true
    }

    func value(_ number: Int) -> UInt32? {
        switch number {
        case 0..<32: return cpu.registers[number]
        case 32: return cpu.pc
        case 33: return cpu.lastException?.rawValue ?? 0
        case 34: return cpu.eba
        case 35: return cpu.deba
        case 36: return cpu.ie
        case 37: return cpu.im
        case 38: return cpu.ip
        default: return nil
        }
    }

    func set(_ number: Int, _ value: UInt32) {
        switch number {
        case 0..<32: cpu.registers[number] = value
        case 32: cpu.pc = value
        case 34: cpu.eba = value & ~0xff
        case 35: cpu.deba = value & ~0xff
        case 36: cpu.ie = value & 7
        case 37: cpu.im = value
        case 38: cpu.ip = value
        default: break                                      // EID: the simulator's record, read-only
        }
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * $0)) } }
    static func word(_ bytes: ArraySlice<UInt8>) -> UInt32 { bytes.reduce(0) { $0 << 8 | UInt32($1) } }

    public func readRegisters() -> [UInt8] { (0..<Self.registerCount).flatMap { Self.bigEndian(value($0)!) } }

    public func writeRegisters(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == Self.registerCount * 4 else { return false }
        for number in 0..<Self.registerCount { set(number, Self.word(bytes[number * 4..<number * 4 + 4])) }
        return true
    }

    public func readRegister(_ number: Int) -> [UInt8]? { value(number).map(Self.bigEndian) }

    public func writeRegister(_ number: Int, _ bytes: [UInt8]) -> Bool {
        guard value(number) != nil, bytes.count == 4 else { return false }
        set(number, Self.word(bytes[...]))
        return true
    }

    /// Raw bus bytes (no wait states counted, no side effects beyond the devices' own reads).
    func rawRead(_ address: UInt32, count: Int) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        for k in 0..<count {
            guard let (byte, _) = cpu.bus.read(address &+ UInt32(k), size: 1) else { return nil }
            out.append(UInt8(truncatingIfNeeded: byte))
        }
        return out
    }

    public func readMemory(_ address: UInt64, count: Int) -> [UInt8]? {
        guard address <= UInt64(UInt32.max), UInt64(count) <= 0x1_0000_0000 - address else { return nil }
        guard var bytes = rawRead(UInt32(address), count: count) else { return nil }
        for (at, original) in breakpoints {                  // show the program, not our breaks
            for k in 0..<4 where UInt64(at) + UInt64(k) >= address && UInt64(at) + UInt64(k) < address + UInt64(count) {
                bytes[Int(UInt64(at) + UInt64(k) - address)] = original[k]
            }
        }
        return bytes
    }

    public func writeMemory(_ address: UInt64, _ bytes: [UInt8]) -> Bool {
        guard address <= UInt64(UInt32.max), UInt64(bytes.count) <= 0x1_0000_0000 - address else { return false }
        var bytes = bytes
        for (at, original) in breakpoints {                  // writes under a break update the saved word
            var saved = original
            for k in 0..<4 where UInt64(at) + UInt64(k) >= address && UInt64(at) + UInt64(k) < address + UInt64(bytes.count) {
                let index = Int(UInt64(at) + UInt64(k) - address)
                saved[k] = bytes[index]
                bytes[index] = Self.bigEndian(Self.breakWord)[k]
            }
            breakpoints[at] = saved
        }
        // Memory (RAM or ROM) is loaded directly; other devices take bus writes.
        if (try? cpu.bus.load(bytes, at: UInt32(address))) != nil { return true }
        for (k, byte) in bytes.enumerated() where cpu.bus.write(UInt32(address) &+ UInt32(k), size: 1, value: UInt32(byte)) == nil {
            return false
        }
        return true
    }

    public func insertBreakpoint(_ address: UInt64) -> Bool {
        guard address & 3 == 0, address <= UInt64(UInt32.max) else { return false }
        let at = UInt32(address)
        if breakpoints[at] != nil { return true }
        guard let original = rawRead(at, count: 4), (try? cpu.bus.load(Self.bigEndian(Self.breakWord), at: at)) != nil else { return false }
        breakpoints[at] = original
        return true
    }

    public func removeBreakpoint(_ address: UInt64) -> Bool {
        guard address <= UInt64(UInt32.max), let original = breakpoints.removeValue(forKey: UInt32(address)) else { return false }
        return (try? cpu.bus.load(original, at: UInt32(address))) != nil
    }

    public func setPC(_ address: UInt64) { cpu.pc = UInt32(truncatingIfNeeded: address) }

    func reason(_ stop: LM32Stop) -> StopReason? {
        switch stop {
        case .budget: return nil
        case .breakInstruction: return .trap
        case .illegalInstruction: return .illegalInstruction
        case .busError(let fault): return .busError(misaligned: fault.misaligned)
        case .exited(let status): return .exited(UInt8(truncatingIfNeeded: status))
        }
    }

    public func step() -> StopReason { cpu.step().flatMap(reason) ?? .trap }

    public func resume(budget: UInt64) -> StopReason? { reason(runMachine(budget)) }
}
