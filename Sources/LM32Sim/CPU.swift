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
///
/// The run loop keeps its hot state in locals; the state the rare paths touch (device
/// accesses, exceptions, CSRs) is marked `@exclusivity(unchecked)`: one thread drives a CPU,
/// and only its own methods, or the system between runs, change it, never inside another
/// access to the same property. Checked, those accesses were a fifth of `eric scan --soc`'s
/// time (the firmware reaches a device every few instructions). Arrays stay checked.
public final class LM32CPU {
    let registerStorage: UnsafeMutablePointer<UInt32>
    public let registers: RegisterFile
    @exclusivity(unchecked) public var pc: UInt32
    /// IE: bit 0 IE, bit 1 EIE (IE saved on an exception), bit 2 BIE (saved on a debug exception).
    @exclusivity(unchecked) public var ie: UInt32 = 0 { didSet { updateAttention() } }
    @exclusivity(unchecked) public var im: UInt32 = 0 { didSet { updateAttention() } }
    /// Pending interrupts, latched: a line sets its bit, software clears it by writing 1 (a
    /// line still driven sets it again at once, as it would before the next instruction).
    @exclusivity(unchecked) public var ip: UInt32 = 0 {
        didSet {
            if ip & interruptLines != interruptLines { ip |= interruptLines }
            updateAttention()
        }
    }
    @exclusivity(unchecked) public var eba: UInt32
    @exclusivity(unchecked) public var deba: UInt32
    /// DC: bit 0 single step, bit 1 route every exception to DEBA, bits 2-9 watchpoint modes.
    @exclusivity(unchecked) public var dc: UInt32 = 0 { didSet { updateAttention() } }
    public var breakpoints = [UInt32](repeating: 0, count: 4) {
        didSet {
            breakpointsSet = breakpoints.contains { $0 & 1 != 0 }
            updateAttention()
        }
    }
    @exclusivity(unchecked) var breakpointsSet = false
    public var watchpoints = [UInt32](repeating: 0, count: 4)
    public var jtx: UInt32 = 0
    public var jrx: UInt32 = 0
    /// CC, the cycle counter.
    @exclusivity(unchecked) public var cycles: UInt64 = 0
    @exclusivity(unchecked) public var instructions: UInt64 = 0
    /// Interrupt lines as devices drive them; latched into IP (at once: the same as before
    /// each instruction, since IP only changes through its setter).
    @exclusivity(unchecked) public var interruptLines: UInt32 = 0 {
        didSet {
            if ip & interruptLines != interruptLines { ip |= interruptLines } else { updateAttention() }
        }
    }
    /// The last exception taken (kept until the next one), for debuggers and tests.
    @exclusivity(unchecked) public private(set) var lastException: LM32Exception?
    /// How many exceptions have been taken: single-stepping stops only after a step that
    /// took none.
    @exclusivity(unchecked) public private(set) var exceptionsTaken: UInt64 = 0
    /// Exceptions taken instead of an instruction (an interrupt, a breakpoint, a fetch that
    /// failed): with `instructions`, every step the CPU has made.
    @exclusivity(unchecked) public private(set) var exceptionSteps: UInt64 = 0
    /// Steps made: instructions executed and exceptions taken in their place. A limit on a
    /// program's run counts these, so a CPU that only takes exceptions still reaches it.
    public var steps: UInt64 { instructions &+ exceptionSteps }
    /// Characters written to JTX (the JTAG UART).
    public var jtagOutput: [UInt8] = []
    /// The "virtual environment" of gdb's LM32 simulator: `scall` performs newlib system calls
    /// (r8 = number, arguments r1-r3; exit and write) instead of raising an exception, so
    /// programs built for `lm32-elf-run` run unchanged.
    @exclusivity(unchecked) public var hostCalls = false
    /// Where `run(budget:untilCycle:)` stops; devices may bring it forward while it runs.
    @exclusivity(unchecked) public var stopAtCycle: UInt64 = .max
    /// A debugger is attached and plants `break` as its software breakpoint: executing one
    /// stops the simulation at it (as a JTAG debugger would) instead of entering the debug
    /// exception, so the program's own DEBA handler never sees the debugger's breakpoints.
    @exclusivity(unchecked) public var debuggerOwnsBreak = false
    /// What the program wrote to file descriptors 1 and 2 through host calls.
    public var hostOutput: [UInt8] = []
    /// Cycle from which each register's latest value can be used (result latencies); slot 32
    /// is for "no register".
    let readyAt: UnsafeMutablePointer<UInt64>
    /// Decoded instructions of the memory the code runs from (owner), and raw views of it and
    /// of the memory data accesses hit last: plain values, so the hot path counts no references.
    @exclusivity(unchecked) var codeCache: DecodeCache?
    @exclusivity(unchecked) var code = CodeView.none
    @exclusivity(unchecked) var dataOwner: Memory?
    @exclusivity(unchecked) var data = DataView.none
    /// The memories data accesses hit before the last one, most recent first: firmware
    /// alternates between its RAM, its ROM's constants and a device's buffer memory (a frame
    /// built byte by byte from a template and RAM tables), and each switch would otherwise
    /// cost a bus lookup.
    @exclusivity(unchecked) var otherDataOwner: Memory?
    @exclusivity(unchecked) var otherData = DataView.none
    @exclusivity(unchecked) var thirdDataOwner: Memory?
    @exclusivity(unchecked) var thirdData = DataView.none
    /// Whether an interrupt is due, a breakpoint is set or single-stepping is on: the only
    /// cases where `step` must look before fetching.
    @exclusivity(unchecked) var attention = false

    struct CodeView {
        let ops: UnsafeMutablePointer<DecodedOp>
        let valid: UnsafeMutablePointer<Bool>
        let base: UInt32
        let limit: UInt32
        let wait: UInt64
        let cache: Unmanaged<DecodeCache>?
        /// The word index of an instruction at `pc` in the view, if the view holds it and pc
        /// is word-aligned. The offset is rotated so that a misaligned pc (low bits set) lands
        /// far past the end: one compare checks both (views start on a word boundary).
        @inline(__always)
        func index(of pc: UInt32) -> Int? {
            let offset = pc &- base
            let word = offset >> 2 | offset << 30
            return word < limit >> 2 ? Int(word) : nil
        }

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
        let wait: UInt64
        let writable: Bool
        /// The same memory as the code: stores must drop decoded instructions.
        let holdsCode: Bool
        nonisolated(unsafe) static let none = DataView(storage: sentinel.assumingMemoryBound(to: UInt8.self), base: 0, end: 0, wait: 0, writable: false, holdsCode: false)

        /// Whether a naturally aligned access of `size` bytes at `address` lies in this memory.
        @inline(__always)
        func holds(_ address: UInt32, size: Int) -> Bool {
            address >= base && UInt64(address) &+ UInt64(size) <= end && address % UInt32(size) == 0
        }

        /// A big-endian load; `holds` said yes.
        @inline(__always)
        func load(_ address: UInt32, size: Int) -> UInt32 {
            let p = UnsafeRawPointer(storage + Int(address &- base))
            switch size {
            case 4: return UInt32(bigEndian: p.loadUnaligned(as: UInt32.self))
            case 2: return UInt32(UInt16(bigEndian: p.loadUnaligned(as: UInt16.self)))
            default: return UInt32(p.load(as: UInt8.self))
            }
        }

        /// A big-endian store; `holds` said yes.
        @inline(__always)
        func store(_ address: UInt32, size: Int, value: UInt32) {
            let p = UnsafeMutableRawPointer(storage + Int(address &- base))
            switch size {
            case 4: p.storeBytes(of: value.bigEndian, as: UInt32.self)
            case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: value).bigEndian, as: UInt16.self)
            default: p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
            }
        }
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
        // Result latencies: the instruction table (LM32Spec.latency).
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
        return interpret(budget: budget, bounded: false)
    }

    /// Like `run(budget:)`, but also returns `.budget` once CC reaches `cycle`: a system
    /// runs the CPU up to its devices' next event, overshooting by at most one instruction.
    /// A device that schedules an earlier event while the CPU runs lowers `stopAtCycle`.
    public func run(budget: UInt64, untilCycle cycle: UInt64) -> LM32Stop {
        codeCache?.flushIfStale()
        stopAtCycle = cycle
        return interpret(budget: budget, bounded: true)
    }

    /// Executes one instruction (or takes one exception). Returns a reason to stop, if any.
    @discardableResult
    public func step() -> LM32Stop? {
        codeCache?.flushIfStale()      // memory may have been loaded since (a debugger's breakpoints)
        let stop = interpret(budget: 1, bounded: false)
        return stop == .budget ? nil : stop
    }

    /// The interpreter. Ordinary instructions run in `burst`, whose hot state (pc, the cycle
    /// and instruction counts, the code and data views) lives in locals that the compiler keeps
    /// in registers: they touch none of the object's properties, so they pay no exclusivity
    /// check and no reload after a store. A burst ends at anything rare (an exception, a device
    /// register, a CSR, a fetch outside the decoded memory), which `complete` finishes on the
    /// object. When a debugger or an interrupt needs a look before each instruction
    /// (`attention`, or watchpoints set), bursts are one instruction long.
    func interpret(budget: UInt64, bounded: Bool) -> LM32Stop {
        var left = budget
        while left > 0 && (!bounded || cycles < stopAtCycle) {
            let watching = attention || dc & 0x3fc != 0
            if watching && attend() {
                left -= 1
                continue
            }
            let exceptionsBefore = exceptionsTaken
            let (ran, exit) = burst(limit: watching ? 1 : left, stop: bounded ? stopAtCycle : .max, watching: watching)
            left -= ran
            switch exit {
            case .done:
                break
            case .fetch:
                guard let (op, wait) = slowFetch(pc) else {
                    // An instruction bus error, taken instead of the instruction.
                    left -= 1
                    cycles &+= 1
                    exceptionSteps &+= 1
                    let here = pc
                    raise(.instructionBusError, address: here)
                    if hostCalls { return .busError(BusFault(pc: here, address: here, size: 4, access: .fetch)) }
                    continue
                }
                // From memory: the code view covers it now, and the next burst runs it.
                if code.index(of: pc) != nil { continue }
                // From a device's registers: this one instruction, here.
                left -= 1
                var pc = self.pc, cycles = self.cycles
                let exit = withUnsafePointer(to: op) {
                    ordinary($0, fetchWait: UInt64(wait), pc: &pc, cycles: &cycles, code: code, data: data, watching: watching,
                             r: registerStorage, ready: readyAt)
                }
                self.pc = pc
                self.cycles = cycles
                if case .slow(let op, let issue) = exit {
                    if let stop = complete(op, issue: issue, watching: watching) { return stop }
                } else {
                    instructions &+= 1
                }
            case .slow(let op, let issue):
                left -= 1
                if let stop = complete(op, issue: issue, watching: watching) { return stop }
            }
            if watching && dc & 1 != 0 && exceptionsTaken == exceptionsBefore {
                raise(.breakpoint, address: pc)     // single step: stop after one instruction
            }
        }
        return .budget
    }

    /// Why a burst ended.
    enum BurstExit {
        /// The limit or the stop cycle was reached.
        case done
        /// The instruction at pc is not in the code view: nothing of it has run.
        case fetch
        /// The instruction at pc is issued (cycles counted up to `issue` and past it) and needs
        /// the object to finish it.
        case slow(DecodedOp, issue: UInt64)
    }

    /// Runs up to `limit` ordinary instructions from the code view while CC is below `stop`.
    /// Returns how many it completed and why it ended.
    func burst(limit: UInt64, stop: UInt64, watching: Bool) -> (UInt64, BurstExit) {
        let code = self.code, data = self.data, r = registerStorage, ready = readyAt
        var pc = self.pc, cycles = self.cycles, executed: UInt64 = 0
        var exit = BurstExit.done
        while executed < limit && cycles < stop {
            guard let index = code.index(of: pc) else { exit = .fetch; break }
            if !code.valid[index] { _ = code.cache!.takeUnretainedValue().op(at: index) }     // decoded on first use

            if let stop = ordinary(code.ops + index, fetchWait: code.wait, pc: &pc, cycles: &cycles, code: code, data: data, watching: watching, r: r, ready: ready) {
                exit = stop
                break
            }
            executed &+= 1
        }
        self.pc = pc
        self.cycles = cycles
        instructions &+= executed
        return (executed, exit)
    }

    /// A loaded byte or halfword as its load extends it (lb, lh sign-extend; the others zero).
    @inline(__always)
    static func extended(_ value: UInt32, by load: LM32Operation) -> UInt32 {
        switch load {
        case .lb: return UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: value)))
        case .lh: return UInt32(bitPattern: Int32(Int16(truncatingIfNeeded: value)))
        default: return value
        }
    }

    /// One ordinary instruction: issued, run, retired (nil); or issued and left for `complete`.
    /// Inlined into the burst's loop, where pc and cycles are its locals.
    @inline(__always)
    func ordinary(_ decoded: UnsafePointer<DecodedOp>, fetchWait: UInt64, pc: inout UInt32, cycles: inout UInt64, code: CodeView, data: DataView, watching: Bool,
                  r: UnsafeMutablePointer<UInt32>, ready: UnsafeMutablePointer<UInt64>) -> BurstExit? {
        // Wait for the operands this instruction reads (result latencies), then issue.
        let operandsReady = max(ready[Int(decoded.pointee.source1)], ready[Int(decoded.pointee.source2)])
        if operandsReady > cycles { cycles = operandsReady }
        let issue = cycles
        cycles &+= 1 &+ fetchWait
        var next = pc &+ 4
        let y = r[Int(decoded.pointee.r0)], z = r[Int(decoded.pointee.r1)], immediate = decoded.pointee.immediate

        @inline(__always) func relation(_ a: UInt32, _ b: UInt32) -> Bool {
            LM32Relation.holds(opcode: decoded.pointee.operation.opcode, a, b)
        }
        @inline(__always) func setX(_ value: UInt32) { r[Int(decoded.pointee.r2)] = value }     // RR destination (15:11)
        @inline(__always) func setI(_ value: UInt32) { r[Int(decoded.pointee.r1)] = value }     // RI destination (20:16)
        @inline(__always) func branch(_ taken: Bool) {
            // Static prediction: backward branches taken, forward ones not.
            let backward = Int32(bitPattern: immediate) < 0
            if taken { next = pc &+ immediate }
            cycles &+= taken == backward ? (taken ? Timing.predictedTakenPenalty : 0) : Timing.redirectPenalty
        }
        /// A load from the data view, or nil: the object must finish the instruction.
        @inline(__always) func read(_ size: Int) -> UInt32? {
            let address = y &+ immediate
            guard !watching && data.holds(address, size: size) else { return nil }
            cycles &+= data.wait
            return data.load(address, size: size)
        }
        @inline(__always) func write(_ size: Int) -> Bool {
            let address = y &+ immediate
            guard !watching && data.writable && data.holds(address, size: size) else { return false }
            data.store(address, size: size, value: z)
            if data.holdsCode, address &- code.base < code.limit { code.valid[Int((address &- code.base) >> 2)] = false }
            cycles &+= data.wait
            return true
        }

        switch decoded.pointee.operation {
        // Immediate forms: rX (20:16) = rY op immediate.
        case .srui: setI(y >> immediate)
        case .nori: setI(~(y | immediate))
        case .muli: setI(y &* immediate)
        case .sri: setI(UInt32(bitPattern: Int32(bitPattern: y) >> Int32(immediate)))
        case .xori: setI(y ^ immediate)
        case .andi, .andhi: setI(y & immediate)
        case .xnori: setI(~(y ^ immediate))
        case .addi: setI(y &+ immediate)
        case .ori, .orhi: setI(y | immediate)
        case .sli: setI(y << immediate)
        case .cmpei, .cmpgi, .cmpgei, .cmpgeui, .cmpgui, .cmpnei: setI(relation(y, immediate) ? 1 : 0)

        // Loads and stores in the data view; elsewhere, the object's slow paths.
        case .lb:
            guard let value = read(1) else { return .slow(decoded.pointee, issue: issue) }
            setI(Self.extended(value, by: .lb))
        case .lh:
            guard let value = read(2) else { return .slow(decoded.pointee, issue: issue) }
            setI(Self.extended(value, by: .lh))
        case .lw:
            guard let value = read(4) else { return .slow(decoded.pointee, issue: issue) }
            setI(value)
        case .lhu:
            guard let value = read(2) else { return .slow(decoded.pointee, issue: issue) }
            setI(value)
        case .lbu:
            guard let value = read(1) else { return .slow(decoded.pointee, issue: issue) }
            setI(value)
        case .sb: guard write(1) else { return .slow(decoded.pointee, issue: issue) }
        case .sh: guard write(2) else { return .slow(decoded.pointee, issue: issue) }
        case .sw: guard write(4) else { return .slow(decoded.pointee, issue: issue) }

        // Conditional branches: rY (25:21) against rZ (20:16).
        case .be, .bg, .bge, .bgeu, .bgu, .bne: branch(relation(y, z))

        // Register forms: rX (15:11) = rY op rZ.
        case .sru: setX(y >> (z & 31))
        case .nor: setX(~(y | z))
        case .mul: setX(y &* z)
        case .divu, .modu:
            guard z != 0 else { return .slow(decoded.pointee, issue: issue) }     // divide by zero
            setX(decoded.pointee.operation == .divu ? y / z : y % z)
            cycles &+= Timing.divideCycles - 1
        case .sr: setX(UInt32(bitPattern: Int32(bitPattern: y) >> Int32(z & 31)))
        case .xor: setX(y ^ z)
        case .and: setX(y & z)
        case .xnor: setX(~(y ^ z))
        case .sextb: setX(UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: y))))
        case .add: setX(y &+ z)
        case .or: setX(y | z)
        case .sl: setX(y << (z & 31))
        case .sub: setX(y &- z)
        case .sexth: setX(UInt32(bitPattern: Int32(Int16(truncatingIfNeeded: y))))
        case .cmpe, .cmpg, .cmpge, .cmpgeu, .cmpgu, .cmpne: setX(relation(y, z) ? 1 : 0)

        // Jumps and calls (eret and bret change IE: the object's).
        case .b:
            guard decoded.pointee.r0 < 30 else { return .slow(decoded.pointee, issue: issue) }
            next = y
            cycles &+= Timing.redirectPenalty
        case .call:
            r[29] = pc &+ 4
            next = y
            cycles &+= Timing.redirectPenalty
        case .bi:
            next = pc &+ immediate
            cycles &+= Timing.predictedTakenPenalty
        case .calli:
            r[29] = pc &+ 4
            next = pc &+ immediate
            cycles &+= Timing.predictedTakenPenalty

        // System: the object's.
        case .rcsr, .wcsr, .raise, .user, .reserved27, .reserved2a, .reserved35:
            return .slow(decoded.pointee, issue: issue)
        }
        ready[Int(decoded.pointee.destination)] = issue &+ UInt64(decoded.pointee.latency)
        pc = next
        return nil
    }

    /// Finishes an issued instruction at pc that a burst left: every operation, the rare paths
    /// included (device registers, watchpoints, exceptions, CSRs, host calls). An exception
    /// entered still counts the instruction, as the pipeline retires it into the handler.
    @inline(never)
    func complete(_ op: DecodedOp, issue: UInt64, watching: Bool) -> LM32Stop? {
        let here = pc
        var next = here &+ 4
        let y = registers[Int(op.r0)], z = registers[Int(op.r1)]
        var raised = false
        func enter(_ exception: LM32Exception) {
            raise(exception, address: here)
            raised = true
        }
        func read(_ size: Int) -> UInt32? {
            let address = y &+ op.immediate
            if watching && dc & 0x3fc != 0 && watchpointHit(address, write: false) { enter(.watchpoint); return nil }
            let result = data.holds(address, size: size) ? loadViewed(address, size: size) : slowLoad(address, size: size)
            guard let (value, wait) = result else { enter(.dataBusError); return nil }
            cycles &+= UInt64(wait)
            return value
        }
        func write(_ size: Int) {
            let address = y &+ op.immediate
            if watching && dc & 0x3fc != 0 && watchpointHit(address, write: true) { enter(.watchpoint); return }
            let wait = data.writable && data.holds(address, size: size) ? storeViewed(address, size: size, value: z) : slowStore(address, size: size, value: z)
            guard let wait else { enter(.dataBusError); return }
            cycles &+= UInt64(wait)
        }
        func busFault(_ access: BusFault.Access, _ size: Int) -> LM32Stop? {
            raised && hostCalls && lastException == .dataBusError ? .busError(BusFault(pc: here, address: y &+ op.immediate, size: size, access: access)) : nil
        }

        switch op.operation {
        case .lb, .lh, .lw, .lhu, .lbu:
            let size = op.operation == .lw ? 4 : op.operation == .lh || op.operation == .lhu ? 2 : 1
            if let value = read(size) { registers[Int(op.r1)] = Self.extended(value, by: op.operation) }
            if let stop = busFault(.read, size) { return stop }
        case .sb, .sh, .sw:
            let size = op.operation == .sw ? 4 : op.operation == .sh ? 2 : 1
            write(size)
            if let stop = busFault(.write, size) { return stop }
        case .divu, .modu:
            if z == 0 {
                enter(.divideByZero)
            } else {
                registers[Int(op.r2)] = op.operation == .divu ? y / z : y % z
                cycles &+= Timing.divideCycles - 1
            }
        case .b:                                                            // b rY (ret, eret, bret)
            next = y
            cycles &+= Timing.redirectPenalty
            if op.r0 == 30 { ie = (ie & ~1) | (ie >> 1) & 1 }              // eret: IE <- EIE
            if op.r0 == 31 { ie = (ie & ~1) | (ie >> 2) & 1 }              // bret: IE <- BIE
        case .rcsr:
            registers[Int(op.r2)] = readCSR(op.r0)
        case .wcsr:
            writeCSR(op.r0, z)
        case .raise:
            switch op.word & 0x3ff_ffff {
            case 7 where hostCalls:
                if let stop = hostCall(at: here) { return stop }
                raised = true                                               // pc set past the scall
            case 7:
                enter(.systemCall)
            case 2 where debuggerOwnsBreak:
                return .breakInstruction(pc: here)
            case 2:
                enter(.breakpoint)
            default:
                return .illegalInstruction(pc: here, word: op.word)
            }
        case .user, .reserved27, .reserved2a, .reserved35:
            return .illegalInstruction(pc: here, word: op.word)
        default:
            preconditionFailure("\(op.operation) is run by `ordinary`")
        }
        readyAt[Int(op.destination)] = issue &+ UInt64(op.latency)
        instructions &+= 1
        if !raised { pc = next }
        return nil
    }

    /// Before an instruction, when something needs a look: an interrupt due or a breakpoint
    /// on it is taken instead (true).
    @inline(never)
    func attend() -> Bool {
        var exception: LM32Exception?
        if ie & 1 != 0 && ip & im != 0 {
            exception = .interrupt
        } else if breakpointsSet && breakpoints.contains(where: { $0 & 1 != 0 && $0 & ~3 == pc }) {
            exception = .breakpoint
        }
        guard let exception else { return false }
        cycles &+= 1
        exceptionSteps &+= 1
        raise(exception, address: pc)
        return true
    }

    /// Calls `body` with the address of each instruction word in `range` that has run since the
    /// code it lies in was last decoded afresh (a write into that memory from outside the CPU
    /// starts again). Known for the memory the code runs from now; nothing elsewhere. The fuzz
    /// targets use it as the firmware's coverage: the decode cache records it anyway, so it
    /// costs a run nothing.
    public func forEachExecutedInstruction(in range: Range<UInt32>, _ body: (UInt32) -> Void) {
        guard let cache = codeCache, cache.generation == cache.memory.generation else { return }
        var address = range.lowerBound & ~3
        while address < range.upperBound {
            if let index = code.index(of: address), code.valid[index] { body(address) }
            guard address <= UInt32.max - 4 else { break }
            address += 4
        }
    }

    /// Instructions are naturally aligned words: a misaligned pc (a jump to an odd address, an
    /// entry point or a debugger's pc) is an instruction bus error, as is a fetch from nowhere.
    /// A fetch from memory the code view does not cover makes that memory's cache the view.
    @inline(never)
    func slowFetch(_ address: UInt32) -> (DecodedOp, Int)? {
        guard address & 3 == 0, let mapping = bus.mapping(at: address) else { return nil }
        // Memory mapped on a word boundary gets a code view (decoded once); other memory and
        // devices are read word by word.
        if let memory = mapping.device as? Memory, mapping.base & 3 == 0 {
            if codeCache?.memory !== memory || code.base != mapping.base {
                let cache = DecodeCache(memory: memory, base: mapping.base)
                codeCache = cache
                code = CodeView(ops: cache.ops, valid: cache.valid, base: mapping.base, limit: UInt32(min(cache.words * 4, Int(mapping.size))),
                                wait: UInt64(memory.waitStates), cache: Unmanaged.passUnretained(cache))
                data = .none    // holdsCode may have changed
                otherData = .none
                thirdData = .none
            }
            // A word the view does not cover (a memory whose size is not a multiple of 4) ends here.
            guard let index = code.index(of: address) else { return nil }
            return (code.valid[index] ? code.ops[index] : code.cache!.takeUnretainedValue().op(at: index), Int(code.wait))
        }
        guard let (word, wait) = bus.read(address, size: 4) else { return nil }
        return (DecodedOp(word), wait)
    }

    /// A load from the data view, whose bounds and alignment the caller has checked.
    func loadViewed(_ address: UInt32, size: Int) -> (UInt32, Int) {
        (data.load(address, size: size), Int(data.wait))
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
        data = DataView(storage: memory.storage, base: base, end: end, wait: UInt64(memory.waitStates),
                        writable: memory.writable, holdsCode: codeCache?.memory === memory)
        return true
    }

    /// Device registers the CPU reaches without the bus's lookups (a system's I/O window, its
    /// most frequent non-memory accesses): loads and stores in `ioBase ..< ioBase + ioSize` go
    /// straight to `ioDevice`, which the bus also maps there (debuggers and loaders use the
    /// bus). The bus keeps the device alive.
    @exclusivity(unchecked) public private(set) var ioBase: UInt32 = 0
    @exclusivity(unchecked) public private(set) var ioSize: UInt32 = 0
    @exclusivity(unchecked) unowned(unsafe) var ioDevice: BusDevice?

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

    /// A store into the data view, whose bounds and alignment the caller has checked; keeps
    /// decoded code in step.
    func storeViewed(_ address: UInt32, size: Int, value: UInt32) -> Int {
        data.store(address, size: size, value: value)
        if data.holdsCode, address &- code.base < code.limit { code.valid[Int((address &- code.base) >> 2)] = false }
        return Int(data.wait)
    }

    @inline(never)
    func slowStore(_ address: UInt32, size: Int, value: UInt32) -> Int? {
        guard address % UInt32(size) == 0 else { return nil }     // misaligned: a data bus error
        if address &- ioBase < ioSize, let device = ioDevice {
            guard device.write(address &- ioBase, size: size, value: value) else { return nil }
            codeCache?.flushIfStale()
            return device.waitStates
        }
        // Memory: through the data views (the two kept views first, then a bus lookup).
        if viewData(at: address), data.writable, UInt64(address) + UInt64(size) <= data.end {
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
