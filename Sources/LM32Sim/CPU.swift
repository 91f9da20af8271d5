import LM32ISA

/// LM32 exception IDs (the vector is base + 32 x ID; the LatticeMico32 manual, exceptions; docs/lm32.md).
public enum LM32Exception: UInt32, Sendable, CaseIterable {
    case reset = 0
    case breakpoint = 1
    case instructionBusError = 2
    case watchpoint = 3
    case dataBusError = 4
    case divideByZero = 5
    case interrupt = 6
    case systemCall = 7

    /// Breakpoints and watchpoints go to DEBA and save the pc in ba; the others go to EBA
    /// (DEBA when DC.RE is set) and save it in ea.
    public var isDebug: Bool { self == .breakpoint || self == .watchpoint }
}

/// Why `run` returned.
public enum LM32Stop: Equatable, Sendable {
    /// The instruction budget is spent.
    case budget
    /// A reserved opcode or `user` (no user logic attached): LM32 has no exception for it;
    /// like QEMU, the simulation stops at the instruction.
    case illegalInstruction(pc: UInt32, word: UInt32)
    /// With `debuggerOwnsBreak` on, a `break` instruction: pc stays on it, nothing vectors.
    case breakInstruction(pc: UInt32)
    /// With `hostCalls` on, the program called exit (scall with r8 = 1); the status is r1.
    case exited(status: UInt32)
    /// With `hostCalls` on, a bus error (an access where no device is, or misaligned): gdb's
    /// simulator stops there (SIGSEGV, SIGBUS) after entering the exception (ea, IE, pc at
    /// the vector), and so does this one.
    case busError(BusFault)
}

/// An access the bus refused.
public struct BusFault: Equatable, Sendable, CustomStringConvertible {
    public enum Access: String, Sendable { case read, write, fetch }
    /// The instruction's address.
    public var pc: UInt32
    public var address: UInt32
    public var size: Int
    public var access: Access
    public var misaligned: Bool { address % UInt32(size) != 0 }

    /// "4-byte misaligned write to 0x1 at pc 0x4" (gdb's simulator says it alike).
    public var description: String {
        "\(size)-byte \(misaligned ? "misaligned " : "")\(access == .fetch ? "instruction fetch from" : access.rawValue + " to")\(misaligned ? "" : " unmapped address") 0x\(String(address, radix: 16)) at pc 0x\(String(pc, radix: 16))"
    }
}

/// The 32 general registers (raw storage, so the hot path does no copying or counting).
public struct RegisterFile {
    let base: UnsafeMutablePointer<UInt32>
    public subscript(index: Int) -> UInt32 {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }
}

/// The LatticeMico32 core, full configuration: multiplier, divider, barrel shifter, sign
/// extension and cycle counter. Big-endian; r0 is zero by convention only (as in the RTL).
/// Instructions are decoded once per word of memory and cached (DecodeCache).
public final class LM32CPU {
    let registerStorage: UnsafeMutablePointer<UInt32>
    public let registers: RegisterFile
    public var pc: UInt32
    /// IE: bit 0 IE, bit 1 EIE (IE saved on an exception), bit 2 BIE (saved on a debug exception).
    public var ie: UInt32 = 0 { didSet { updateAttention() } }
    public var im: UInt32 = 0 { didSet { updateAttention() } }
    /// Pending interrupts, latched: a line sets its bit, software clears it by writing 1 (a
    /// line still driven sets it again at once, as it would before the next instruction).
    public var ip: UInt32 = 0 {
        didSet {
            if ip & interruptLines != interruptLines { ip |= interruptLines }
            updateAttention()
        }
    }
    public var eba: UInt32
    public var deba: UInt32
    /// DC: bit 0 single step, bit 1 route every exception to DEBA, bits 2-9 watchpoint modes.
    public var dc: UInt32 = 0 { didSet { updateAttention() } }
    public var breakpoints = [UInt32](repeating: 0, count: 4) {
        didSet {
            breakpointsSet = breakpoints.contains { $0 & 1 != 0 }
            updateAttention()
        }
    }
    var breakpointsSet = false
    public var watchpoints = [UInt32](repeating: 0, count: 4)
    public var jtx: UInt32 = 0
    public var jrx: UInt32 = 0
    /// CC, the cycle counter.
    public var cycles: UInt64 = 0
    public var instructions: UInt64 = 0
    /// Interrupt lines as devices drive them; latched into IP (at once: the same as before
    /// each instruction, since IP only changes through its setter).
    public var interruptLines: UInt32 = 0 {
        didSet {
            if ip & interruptLines != interruptLines { ip |= interruptLines } else { updateAttention() }
        }
    }
    /// The last exception taken (kept until the next one), for debuggers and tests.
    public private(set) var lastException: LM32Exception?
    /// How many exceptions have been taken: single-stepping stops only after a step that
    /// took none.
    public private(set) var exceptionsTaken: UInt64 = 0
    /// Exceptions taken instead of an instruction (an interrupt, a breakpoint, a fetch that
    /// failed): with `instructions`, every step the CPU has made.
    public private(set) var exceptionSteps: UInt64 = 0
    /// Steps made: instructions executed and exceptions taken in their place. A limit on a
    /// program's run counts these, so a CPU that only takes exceptions still reaches it.
    public var steps: UInt64 { instructions &+ exceptionSteps }
    /// Characters written to JTX (the JTAG UART).
    public var jtagOutput: [UInt8] = []
    /// The "virtual environment" of gdb's LM32 simulator: `scall` performs newlib system calls
    /// (r8 = number, arguments r1-r3; exit and write) instead of raising an exception, so
    /// programs built for `lm32-elf-run` run unchanged.
    public var hostCalls = false
    /// Where `run(budget:untilCycle:)` stops; devices may bring it forward while it runs.
    public var stopAtCycle: UInt64 = .max
    /// A debugger is attached and plants `break` as its software breakpoint: executing one
    /// stops the simulation at it (as a JTAG debugger would) instead of entering the debug
    /// exception, so the program's own DEBA handler never sees the debugger's breakpoints.
    public var debuggerOwnsBreak = false
    /// What the program wrote to file descriptors 1 and 2 through host calls.
    public var hostOutput: [UInt8] = []
    /// Cycle from which each register's latest value can be used (result latencies); slot 32
    /// is for "no register".
    let readyAt: UnsafeMutablePointer<UInt64>
    /// Decoded instructions of the memory the code runs from (owner), and raw views of it and
    /// of the memory data accesses hit last: plain values, so the hot path counts no references.
    var codeCache: DecodeCache?
    var code = CodeView.none
    var dataOwner: Memory?
    var data = DataView.none
    /// The memories data accesses hit before the last one, most recent first: firmware
    /// alternates between its RAM, its ROM's constants and a device's buffer memory (a frame
    /// built byte by byte from a template and RAM tables), and each switch would otherwise
    /// cost a bus lookup.
    var otherDataOwner: Memory?
    var otherData = DataView.none
    var thirdDataOwner: Memory?
    var thirdData = DataView.none
    /// Whether an interrupt is due, a breakpoint is set or single-stepping is on: the only
    /// cases where `step` must look before fetching.
    var attention = false

    struct CodeView {
        let ops: UnsafeMutablePointer<DecodedOp>
        let valid: UnsafeMutablePointer<Bool>
        let base: UInt32
        let limit: UInt32
        let wait: UInt64
        let cache: Unmanaged<DecodeCache>?
        /// No code memory yet: every fetch takes the slow path.
        nonisolated(unsafe) static let none = CodeView(ops: sentinel.assumingMemoryBound(to: DecodedOp.self), valid: sentinel.assumingMemoryBound(to: Bool.self),
                                   base: 0, limit: 0, wait: 0, cache: nil)
    }

    /// Never read through (the empty views' bounds reject every address); only fills pointer fields.
    nonisolated(unsafe) static let sentinel = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 16)

    struct DataView {
        let storage: UnsafeMutablePointer<UInt8>
        let base: UInt32
        /// One past the last byte (2^32 for a memory at the top of the address space).
        let end: UInt64
        let wait: Int
        let writable: Bool
        /// The same memory as the code: stores must drop decoded instructions.
        let holdsCode: Bool
        nonisolated(unsafe) static let none = DataView(storage: sentinel.assumingMemoryBound(to: UInt8.self), base: 0, end: 0, wait: 0, writable: false, holdsCode: false)
    }

    func updateAttention() {
        attention = (ie & 1 != 0 && ip & im != 0) || dc & 1 != 0 || breakpointsSet
    }

    /// docs/timing.md, "LM32": the pipeline facts of the reference sheet.
    public enum Timing {
        /// Extra cycles when a jump goes where static prediction said (taken: bi, calli,
        /// backward conditional branches).
        public static let predictedTakenPenalty: UInt64 = 1
        /// Extra cycles for a mispredicted conditional branch, a register jump (b, call, ret,
        /// eret, bret) and an exception: the pipeline refills from the M stage.
        public static let redirectPenalty: UInt64 = 3
        /// divu and modu: the 32-step multi-cycle unit, plus set-up.
        public static let divideCycles: UInt64 = 34
        /// Cycles until a result can be used: 1 adder/logic/sign-extension (bypassed from X),
        /// 2 compares and shifts (from M), 3 loads and multiplies (from W).
        static func latency(_ opcode: UInt8) -> UInt64 {
            switch opcode {
            case 0x04, 0x07, 0x0a, 0x0b, 0x10, 0x02, 0x22: return 3
            case 0x19...0x1d, 0x1f, 0x39...0x3d, 0x3f, 0x00, 0x05, 0x0f, 0x20, 0x25, 0x2f: return 2
            default: return 1
            }
        }
    }

    public let bus: Bus

    /// CFG: M, D, S, X, CC (bits 0, 1, 2, 4, 5), 32 interrupts, 4 breakpoints, 4 watchpoints,
    /// revision 3.
    public static let configuration: UInt32 = 0x37 | 32 << 12 | 4 << 18 | 4 << 22 | 3 << 26

    public init(bus: Bus, resetVector: UInt32 = 0) {
        self.bus = bus
        pc = resetVector
        eba = resetVector
        deba = resetVector
        registerStorage = .allocate(capacity: 32)
        registerStorage.initialize(repeating: 0, count: 32)
        registers = RegisterFile(base: registerStorage)
        readyAt = .allocate(capacity: 33)
        readyAt.initialize(repeating: 0, count: 33)
    }

    deinit {
        registerStorage.deallocate()
        readyAt.deallocate()
    }

    // MARK: Exceptions

    /// Enters an exception: `address` goes to ea (ba for debug exceptions).
    /// Costs the pipeline refill; an exception taken instead of an instruction (interrupt,
    /// breakpoint, fetch error) costs its cycle too, counted by the caller.
    public func raise(_ exception: LM32Exception, address: UInt32) {
        cycles &+= Timing.redirectPenalty
        if exception.isDebug {
            registers[31] = address
            ie = (ie & ~0b100) | (ie & 1) << 2      // BIE <- IE
            ie &= ~1
            pc = deba &+ exception.rawValue * 32
        } else {
            registers[30] = address
            ie = (ie & ~0b010) | (ie & 1) << 1      // EIE <- IE
            ie &= ~1
            pc = ((dc & 2) != 0 ? deba : eba) &+ exception.rawValue * 32
        }
        lastException = exception
        exceptionsTaken &+= 1
    }

    // MARK: CSRs

    public func readCSR(_ number: UInt8) -> UInt32 {
        switch number {
        case 0x00: return ie
        case 0x01: return im
        case 0x02: return ip
        case 0x05: return UInt32(truncatingIfNeeded: cycles)
        case 0x06: return LM32CPU.configuration
        case 0x07: return eba
        case 0x09: return deba
        case 0x0e: return jtx
        case 0x0f: return jrx
        default: return 0 // write-only (ICC, DCC, DC, BPn, WPn) or absent
        }
    }

    public func writeCSR(_ number: UInt8, _ value: UInt32) {
        switch number {
        case 0x00: ie = value & 7
        case 0x01: im = value
        case 0x02: ip &= ~value                      // write one to clear
        case 0x07: eba = value & ~0xff
        case 0x08: dc = value & 0x3ff
        case 0x09: deba = value & ~0xff
        case 0x0e:
            jtx = value & 0xff
            jtagOutput.append(UInt8(value & 0xff))
        case 0x0f: jrx = value & 0xff                // writing clears FULL (bit 8)
        case 0x10...0x13: breakpoints[Int(number - 0x10)] = value
        case 0x18...0x1b: watchpoints[Int(number - 0x18)] = value
        default: break                               // ICC, DCC: caches not modelled; CC, CFG read-only
        }
    }

    // MARK: Execution

    /// Runs `budget` steps (an instruction, or the entry into an exception taken instead of
    /// one), or until the simulation must stop.
    public func run(budget: UInt64) -> LM32Stop {
        codeCache?.flushIfStale()
        var left = budget
        while left > 0 {
            if let stop = stepInline() { return stop }
            left -= 1
        }
        return .budget
    }

    /// Like `run(budget:)`, but also returns `.budget` once CC reaches `cycle`: a system
    /// runs the CPU up to its devices' next event, overshooting by at most one instruction.
    /// A device that schedules an earlier event while the CPU runs lowers `stopAtCycle`.
    public func run(budget: UInt64, untilCycle cycle: UInt64) -> LM32Stop {
        codeCache?.flushIfStale()
        stopAtCycle = cycle
        var left = budget
        while left > 0 && cycles < stopAtCycle {
            if let stop = stepInline() { return stop }
            left -= 1
        }
        return .budget
    }

    /// Executes one instruction (or takes one exception). Returns a reason to stop, if any.
    @discardableResult
    public func step() -> LM32Stop? {
        codeCache?.flushIfStale()      // memory may have been loaded since (a debugger's breakpoints)
        return stepInline()
    }

    /// `step`, inlined into `run`'s loop so that the hot path makes no call per instruction.
    @inline(__always)
    func stepInline() -> LM32Stop? {
        if attention {
            if ie & 1 != 0 && ip & im != 0 {
                cycles &+= 1
                exceptionSteps &+= 1
                raise(.interrupt, address: pc)
                return nil
            }
            for breakpoint in breakpoints where breakpointsSet && breakpoint & 1 != 0 && breakpoint & ~3 == pc {
                cycles &+= 1
                exceptionSteps &+= 1
                raise(.breakpoint, address: pc)
                return nil
            }
        }
        guard let (op, wait) = fetch(pc) else {
            cycles &+= 1
            exceptionSteps &+= 1
            let here = pc
            raise(.instructionBusError, address: here)
            return hostCalls ? .busError(BusFault(pc: here, address: here, size: 4, access: .fetch)) : nil
        }
        // Wait for the operands this instruction reads (result latencies), then issue.
        let ready = max(readyAt[Int(op.source1)], readyAt[Int(op.source2)])
        if ready > cycles { cycles = ready }
        let issue = cycles
        cycles &+= 1 &+ UInt64(wait)
        let here = pc
        let watching = attention, exceptionsBefore = exceptionsTaken
        if let stop = execute(op, at: here) { return stop }
        readyAt[Int(op.destination)] = issue &+ UInt64(op.latency)
        instructions &+= 1
        if watching && dc & 1 != 0 && exceptionsTaken == exceptionsBefore {
            raise(.breakpoint, address: pc)           // single step: stop after one instruction
        }
        return nil
    }

    /// The decoded instruction at `address`: from the code memory's cache, or through the bus.
    @inline(__always)
    func fetch(_ address: UInt32) -> (DecodedOp, Int)? {
        if address &- code.base < code.limit, address & 3 == 0 {
            let index = Int((address &- code.base) >> 2)
            return (code.valid[index] ? code.ops[index] : code.cache!.takeUnretainedValue().op(at: index), Int(code.wait))
        }
        return slowFetch(address)
    }

    /// Instructions are naturally aligned words: a misaligned pc (a jump to an odd address, an
    /// entry point or a debugger's pc) is an instruction bus error, as is a fetch from nowhere.
    @inline(never)
    func slowFetch(_ address: UInt32) -> (DecodedOp, Int)? {
        guard address & 3 == 0, let mapping = bus.mapping(at: address) else { return nil }
        if let memory = mapping.device as? Memory {
            if codeCache?.memory !== memory || code.base != mapping.base {
                let cache = DecodeCache(memory: memory, base: mapping.base)
                codeCache = cache
                code = CodeView(ops: cache.ops, valid: cache.valid, base: mapping.base, limit: UInt32(min(cache.words * 4, Int(mapping.size))),
                                wait: UInt64(memory.waitStates), cache: Unmanaged.passUnretained(cache))
                data = .none    // holdsCode may have changed
                otherData = .none
                thirdData = .none
            }
            // Not through `fetch` again: a word the view does not cover (a memory whose size is
            // not a multiple of 4) must end here, not come back.
            let offset = address &- code.base
            guard offset < code.limit else { return nil }
            let index = Int(offset >> 2)
            return (code.valid[index] ? code.ops[index] : code.cache!.takeUnretainedValue().op(at: index), Int(code.wait))
        }
        guard let (word, wait) = bus.read(address, size: 4) else { return nil }
        return (DecodedOp(word), wait)
    }

    /// A data read, with the fast path for memory.
    @inline(__always)
    func load(_ address: UInt32, size: Int) -> (UInt32, Int)? {
        if address >= data.base, UInt64(address) &+ UInt64(size) <= data.end, address % UInt32(size) == 0 {
            return loadViewed(address, size: size)
        }
        return slowLoad(address, size: size)
    }

    /// A load from the data view, whose bounds and alignment the caller has checked.
    @inline(__always)
    func loadViewed(_ address: UInt32, size: Int) -> (UInt32, Int) {
        let p = UnsafeRawPointer(data.storage + Int(address &- data.base))
        switch size {
        case 4: return (UInt32(bigEndian: p.loadUnaligned(as: UInt32.self)), data.wait)
        case 2: return (UInt32(UInt16(bigEndian: p.loadUnaligned(as: UInt16.self))), data.wait)
        default: return (UInt32(p.load(as: UInt8.self)), data.wait)
        }
    }

    /// Points the data view at the memory holding `address`, if it is one.
    /// Returns false (and leaves the view) when no memory holds it.
    @discardableResult
    func viewData(at address: UInt32) -> Bool {
        if address >= otherData.base && UInt64(address) < otherData.end {
            swap(&data, &otherData)
            swap(&dataOwner, &otherDataOwner)
            return true
        }
        if address >= thirdData.base && UInt64(address) < thirdData.end {
            swap(&data, &thirdData)              // third -> current, current -> third
            swap(&dataOwner, &thirdDataOwner)
            swap(&otherData, &thirdData)         // ... then -> second, second -> third
            swap(&otherDataOwner, &thirdDataOwner)
            return true
        }
        guard let (memory, base, end) = bus.memory(at: address) else { return false }
        thirdData = otherData
        thirdDataOwner = otherDataOwner
        otherData = data
        otherDataOwner = dataOwner
        dataOwner = memory
        data = DataView(storage: memory.storage, base: base, end: end, wait: memory.waitStates,
                        writable: memory.writable, holdsCode: codeCache?.memory === memory)
        return true
    }

    /// Device registers the CPU reaches without the bus's lookups (a system's I/O window, its
    /// most frequent non-memory accesses): loads and stores in `ioBase ..< ioBase + ioSize` go
    /// straight to `ioDevice`, which the bus also maps there (debuggers and loaders use the
    /// bus). The bus keeps the device alive.
    public private(set) var ioBase: UInt32 = 0
    public private(set) var ioSize: UInt32 = 0
    unowned(unsafe) var ioDevice: BusDevice?

    /// Routes `base ..< base + size` (a multiple of 4) to `device`, which must be attached to
    /// the bus at the same place.
    public func mapIO(_ device: BusDevice, base: UInt32, size: UInt32) {
        ioDevice = device
        ioBase = base
        ioSize = size
    }

    /// Data accesses are naturally aligned: a misaligned one is a data bus error (the manual
    /// leaves them undefined; the bus of the SoC refuses them), as is one outside every device.
    @inline(never)
    func slowLoad(_ address: UInt32, size: Int) -> (UInt32, Int)? {
        guard address % UInt32(size) == 0 else { return nil }
        if address &- ioBase < ioSize, let device = ioDevice {
            guard let value = device.read(address &- ioBase, size: size) else { return nil }
            return (value, device.waitStates)
        }
        // A device register leaves the data view on the memory the program was using.
        if viewData(at: address), UInt64(address) + UInt64(size) <= data.end {
            return loadViewed(address, size: size)
        }
        guard let (value, wait) = bus.read(address, size: size) else { return nil }
        return (value, wait)
    }

    /// A data write, with the fast path for memory; keeps decoded code in step.
    @inline(__always)
    func store(_ address: UInt32, size: Int, value: UInt32) -> Int? {
        if data.writable, address >= data.base, UInt64(address) &+ UInt64(size) <= data.end, address % UInt32(size) == 0 {
            return storeViewed(address, size: size, value: value)
        }
        return slowStore(address, size: size, value: value)
    }

    /// A store into the data view, whose bounds and alignment the caller has checked.
    @inline(__always)
    func storeViewed(_ address: UInt32, size: Int, value: UInt32) -> Int {
        let p = UnsafeMutableRawPointer(data.storage + Int(address &- data.base))
        switch size {
        case 4: p.storeBytes(of: value.bigEndian, as: UInt32.self)
        case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: value).bigEndian, as: UInt16.self)
        default: p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        }
        if data.holdsCode, address &- code.base < code.limit { code.valid[Int((address &- code.base) >> 2)] = false }
        return data.wait
    }

    @inline(never)
    func slowStore(_ address: UInt32, size: Int, value: UInt32) -> Int? {
        guard address % UInt32(size) == 0 else { return nil }     // misaligned: a data bus error
        if address &- ioBase < ioSize, let device = ioDevice {
            guard device.write(address &- ioBase, size: size, value: value) else { return nil }
            codeCache?.flushIfStale()
            return device.waitStates
        }
        if let (memory, _, end) = bus.memory(at: address), memory.writable, UInt64(address) + UInt64(size) <= end {
            viewData(at: address)
            return storeViewed(address, size: size, value: value)
        }
        // ROM refuses the CPU's writes (a bus error); a device may write memory (DMA):
        // decoded code must not go stale.
        let wait = bus.write(address, size: size, value: value)
        codeCache?.flushIfStale()
        return wait
    }

    func watchpointHit(_ address: UInt32, write: Bool) -> Bool {
        for (index, watchpoint) in watchpoints.enumerated() {
            let mode = (dc >> UInt32(2 + 2 * index)) & 3   // 0 off, 1 read, 2 write, 3 both
            if mode != 0 && watchpoint == address && (mode == 3 || (mode == 2) == write) { return true }
        }
        return false
    }

    /// One instruction at `here`. Sets pc; raises exceptions.
    @inline(__always)
    func execute(_ i: DecodedOp, at here: UInt32) -> LM32Stop? {
        var next = here &+ 4
        let r = registerStorage
        let y = r[Int(i.r0)], z = r[Int(i.r1)]
        let immediate = i.immediate
        func setX(_ value: UInt32) { r[Int(i.r2)] = value }     // RR destination (15:11)
        func setI(_ value: UInt32) { r[Int(i.r1)] = value }     // RI destination (20:16)
        func branch(_ taken: Bool) {
            // Static prediction: backward branches taken, forward ones not.
            let backward = Int32(bitPattern: i.immediate) < 0
            if taken { next = here &+ i.immediate }
            cycles &+= taken == backward ? (taken ? Timing.predictedTakenPenalty : 0) : Timing.redirectPenalty
        }

        switch i.opcode {
        // Immediate forms: rX (20:16) = rY op immediate.
        case 0x00: setI(y >> immediate)                                             // srui
        case 0x01: setI(~(y | immediate))                                           // nori
        case 0x02: setI(y &* immediate)                                             // muli
        case 0x05: setI(UInt32(bitPattern: Int32(bitPattern: y) >> Int32(immediate)))  // sri
        case 0x06: setI(y ^ immediate)                                              // xori
        case 0x08: setI(y & immediate)                                              // andi
        case 0x09: setI(~(y ^ immediate))                                           // xnori
        case 0x0d: setI(y &+ immediate)                                             // addi
        case 0x0e: setI(y | immediate)                                              // ori
        case 0x0f: setI(y << immediate)                                             // sli
        case 0x18: setI(y & immediate)                                              // andhi
        case 0x19: setI(y == immediate ? 1 : 0)                                     // cmpei
        case 0x1a: setI(Int32(bitPattern: y) > Int32(bitPattern: immediate) ? 1 : 0)   // cmpgi
        case 0x1b: setI(Int32(bitPattern: y) >= Int32(bitPattern: immediate) ? 1 : 0)  // cmpgei
        case 0x1c: setI(y >= immediate ? 1 : 0)                                     // cmpgeui
        case 0x1d: setI(y > immediate ? 1 : 0)                                      // cmpgui
        case 0x1e: setI(y | immediate)                                              // orhi
        case 0x1f: setI(y != immediate ? 1 : 0)                                     // cmpnei

        // Loads and stores.
        case 0x04, 0x07, 0x0a, 0x0b, 0x10:
            let address = y &+ immediate
            let size = i.opcode == 0x0a ? 4 : (i.opcode == 0x07 || i.opcode == 0x0b) ? 2 : 1
            if dc & 0x3fc != 0 && watchpointHit(address, write: false) { raise(.watchpoint, address: here); return nil }
            guard let (value, wait) = load(address, size: size) else {
                raise(.dataBusError, address: here)
                return hostCalls ? .busError(BusFault(pc: here, address: address, size: size, access: .read)) : nil
            }
            cycles &+= UInt64(wait)
            switch i.opcode {
            case 0x04: setI(UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: value))))     // lb
            case 0x07: setI(UInt32(bitPattern: Int32(Int16(truncatingIfNeeded: value))))    // lh
            default: setI(value)                                                            // lw, lhu, lbu
            }
        case 0x03, 0x0c, 0x16:
            let address = y &+ immediate
            let size = i.opcode == 0x16 ? 4 : i.opcode == 0x03 ? 2 : 1
            if dc & 0x3fc != 0 && watchpointHit(address, write: true) { raise(.watchpoint, address: here); return nil }
            guard let wait = store(address, size: size, value: z) else {
                raise(.dataBusError, address: here)
                return hostCalls ? .busError(BusFault(pc: here, address: address, size: size, access: .write)) : nil
            }
            cycles &+= UInt64(wait)

        // Conditional branches: rY (25:21) against rZ (20:16).
        case 0x11: branch(y == z)                                                   // be
        case 0x12: branch(Int32(bitPattern: y) > Int32(bitPattern: z))             // bg
        case 0x13: branch(Int32(bitPattern: y) >= Int32(bitPattern: z))            // bge
        case 0x14: branch(y >= z)                                                   // bgeu
        case 0x15: branch(y > z)                                                    // bgu
        case 0x17: branch(y != z)                                                   // bne

        // Register forms: rX (15:11) = rY op rZ.
        case 0x20: setX(y >> (z & 31))                                              // sru
        case 0x21: setX(~(y | z))                                                   // nor
        case 0x22: setX(y &* z)                                                     // mul
        case 0x23, 0x31:                                                            // divu, modu
            guard z != 0 else { raise(.divideByZero, address: here); return nil }
            setX(i.opcode == 0x23 ? y / z : y % z)
            cycles &+= Timing.divideCycles - 1
        case 0x25: setX(UInt32(bitPattern: Int32(bitPattern: y) >> Int32(z & 31)))   // sr
        case 0x26: setX(y ^ z)                                                      // xor
        case 0x28: setX(y & z)                                                      // and
        case 0x29: setX(~(y ^ z))                                                   // xnor
        case 0x2c: setX(UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: y))))     // sextb
        case 0x2d: setX(y &+ z)                                                     // add
        case 0x2e: setX(y | z)                                                      // or
        case 0x2f: setX(y << (z & 31))                                              // sl
        case 0x32: setX(y &- z)                                                     // sub
        case 0x37: setX(UInt32(bitPattern: Int32(Int16(truncatingIfNeeded: y))))    // sexth
        case 0x39: setX(y == z ? 1 : 0)                                             // cmpe
        case 0x3a: setX(Int32(bitPattern: y) > Int32(bitPattern: z) ? 1 : 0)       // cmpg
        case 0x3b: setX(Int32(bitPattern: y) >= Int32(bitPattern: z) ? 1 : 0)      // cmpge
        case 0x3c: setX(y >= z ? 1 : 0)                                             // cmpgeu
        case 0x3d: setX(y > z ? 1 : 0)                                              // cmpgu
        case 0x3f: setX(y != z ? 1 : 0)                                             // cmpne

        // Jumps, calls, returns.
        case 0x30:                                                                  // b rY (ret, eret, bret)
            next = y
            cycles &+= Timing.redirectPenalty
            if i.r0 == 30 { ie = (ie & ~1) | (ie >> 1) & 1 }                        // eret: IE <- EIE
            if i.r0 == 31 { ie = (ie & ~1) | (ie >> 2) & 1 }                        // bret: IE <- BIE
        case 0x36:                                                                  // call rY
            r[29] = here &+ 4
            next = y
            cycles &+= Timing.redirectPenalty
        case 0x38:                                                                  // bi
            next = here &+ immediate
            cycles &+= Timing.predictedTakenPenalty
        case 0x3e:                                                                  // calli
            r[29] = here &+ 4
            next = here &+ immediate
            cycles &+= Timing.predictedTakenPenalty

        // System.
        case 0x24: setX(readCSR(i.r0))                                              // rcsr
        case 0x34: writeCSR(i.r0, z)                                                // wcsr
        case 0x2b:                                                                  // raise
            switch i.word & 0x3ff_ffff {
            case 7:
                if hostCalls { return hostCall(at: here) }
                raise(.systemCall, address: here); return nil
            case 2:
                if debuggerOwnsBreak { return .breakInstruction(pc: here) }
                raise(.breakpoint, address: here); return nil
            default: return .illegalInstruction(pc: here, word: i.word)
            }
        default:                                                                    // 0x27, 0x2a, 0x35, user (0x33)
            return .illegalInstruction(pc: here, word: i.word)
        }
        pc = next
        return nil
    }

    /// A newlib system call as gdb's simulator performs it (sim/lm32/traps.c): results in r1,
    /// r2 and errno in r3, then the instruction after the scall.
    @inline(never)
    func hostCall(at here: UInt32) -> LM32Stop? {
        let r = registers
        switch r[8] {
        case 1:                                                    // exit
            instructions &+= 1
            return .exited(status: r[1])
        case 5 where r[1] == 1 || r[1] == 2:                       // write(fd, buffer, length)
            var written: UInt32 = 0
            while written < r[3], let (byte, _) = bus.read(r[2] &+ written, size: 1) {
                hostOutput.append(UInt8(truncatingIfNeeded: byte))
                written += 1
            }
            r[1] = written; r[2] = 0; r[3] = 0
        default:                                                   // unsupported: -1, ENOSYS
            r[1] = UInt32.max; r[2] = 0; r[3] = 88
        }
        pc = here &+ 4
        return nil
    }
}
