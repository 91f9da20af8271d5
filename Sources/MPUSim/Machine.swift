import MPUISA

/// Why a run ended early. A fault never stops a scan: it ends that run only.
public enum FaultKind: String, Sendable, Hashable, CaseIterable {
    case watchdog = "watchdog"
    case mloadOutsidePage = "mload outside the page"
    case pcOutsideProgram = "pc outside the program"
    case undefinedInstruction = "undefined instruction"
}

public struct Fault: Sendable, Hashable, CustomStringConvertible {
    public var kind: FaultKind
    /// Byte address of the faulting instruction (for a bad jump, the jump).
    public var pc: Int
    public var cycle: UInt64
    /// The offending value: the page offset, the jump target, or the undecodable word.
    public var detail: UInt64?

    public init(kind: FaultKind, pc: Int, cycle: UInt64, detail: UInt64? = nil) {
        self.kind = kind
        self.pc = pc
        self.cycle = cycle
        self.detail = detail
    }

    public var description: String {
        var text = "\(kind.rawValue) at pc 0x\(hexDigits(UInt64(pc), 4)), cycle \(cycle)"
        switch kind {
        case .mloadOutsidePage: text += " (offset 0x\(String(detail ?? 0, radix: 16)))"
        case .pcOutsideProgram: text += detail.map { " (target 0x\(String($0, radix: 16)))" } ?? " (ran past the last instruction)"
        case .undefinedInstruction: text += detail.map { " (word 0x\(hexDigits($0, 16)))" } ?? ""
        case .watchdog: break
        }
        return text
    }
}

/// An `int` with a non-zero value.
public struct Alert: Sendable, Hashable {
    public var value: UInt64
    public var pc: Int
    /// Cycle of the run at which the `int` executed (counted from 0 at the run's start).
    public var cycle: UInt64

    public init(value: UInt64, pc: Int, cycle: UInt64) {
        self.value = value
        self.pc = pc
        self.cycle = cycle
    }
}

public struct RunResult: Sendable, Hashable {
    public var instructions: UInt64 = 0
    public var cycles: UInt64 = 0
    public var hostReads: UInt64 = 0
    /// nil when the run ended with `int 0`.
    public var fault: Fault?

    public init(instructions: UInt64 = 0, cycles: UInt64 = 0, hostReads: UInt64 = 0, fault: Fault? = nil) {
        self.instructions = instructions
        self.cycles = cycles
        self.hostReads = hostReads
        self.fault = fault
    }
}

/// Hooks a trace uses. The interpreter is generic over this, so with `NoObserver` the hooks
/// compile away: tracing is chosen once, not tested in every instruction.
public protocol ExecutionObserver {
    mutating func willExecute(pc: Int, cycle: UInt64, registers: UnsafePointer<UInt64>)
    mutating func didReadHost(offset: UInt64, bytes: Int, value: UInt64)
    mutating func didExecute(pc: Int, cycle: UInt64, registers: UnsafePointer<UInt64>)
}

public struct NoObserver: ExecutionObserver {
    public init() {}
    @inline(__always) public mutating func willExecute(pc: Int, cycle: UInt64, registers: UnsafePointer<UInt64>) {}
    @inline(__always) public mutating func didReadHost(offset: UInt64, bytes: Int, value: UInt64) {}
    @inline(__always) public mutating func didExecute(pc: Int, cycle: UInt64, registers: UnsafePointer<UInt64>) {}
}

/// The MPU core: runs one automaton over one page.
public struct MPU: Sendable {
    public var timing: TimingModel

    public init(timing: TimingModel = .slides) {
        self.timing = timing
    }

    /// Runs `automaton` over the 4 KiB `page` whose physical address is `pageAddress`.
    /// Alerts are appended to `alerts`.
    public func run(_ automaton: Automaton, page: UnsafeRawPointer, pageAddress: UInt64, alerts: inout [Alert]) -> RunResult {
        var observer = NoObserver()
        return run(automaton, page: page, pageAddress: pageAddress, alerts: &alerts, observer: &observer)
    }

    public func run<Observer: ExecutionObserver>(_ automaton: Automaton, page: UnsafeRawPointer, pageAddress: UInt64,
                                                 alerts: inout [Alert], observer: inout Observer) -> RunResult {
        let result = run(automaton.runnable, page: page, pageAddress: pageAddress, alerts: &alerts, observer: &observer)
        withExtendedLifetime(automaton) {}
        return result
    }

    @inline(__always)
    func run<Observer: ExecutionObserver>(_ program: RunnableProgram, page: UnsafeRawPointer, pageAddress: UInt64,
                                          alerts: inout [Alert], observer: inout Observer) -> RunResult {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 17) { registers in
            // Without an observer, start after the prologue (a trace shows every step).
            let skip = Observer.self == NoObserver.self && UInt64(program.prologueLength) < timing.watchdogCycles ? program.prologueLength : 0
            if skip > 0 {
                registers.baseAddress!.initialize(from: program.prologueRegisters, count: 17)
            } else {
                registers.initialize(repeating: 0)
            }
            registers[Int(InstructionSet.pageBaseRegister)] = pageAddress
            return execute(ops: program.ops, instructionCount: program.instructionCount, entry: program.entry + skip,
                           page: page, registers: registers.baseAddress!, cycles: UInt64(skip), instructions: UInt64(skip), hostReads: 0,
                           alerts: &alerts, observer: &observer)
        }
    }

    @inline(__always)
    func execute<Observer: ExecutionObserver>(ops: UnsafePointer<MicroOp>, instructionCount: Int, entry: Int, page: UnsafeRawPointer,
                                              registers r: UnsafeMutablePointer<UInt64>, cycles startCycles: UInt64,
                                              instructions startInstructions: UInt64, hostReads startHostReads: UInt64,
                                              alerts: inout [Alert],
                                              observer: inout Observer) -> RunResult {
        let budget = timing.watchdogCycles
        let jumpPenalty = UInt64(timing.takenJumpPenalty)
        let mloadCycles = 1 + UInt64(timing.mloadWaitCycles)
        let programBytes = UInt64(instructionCount) &* 8
        var pc = entry
        var cycles = startCycles
        var instructions = startInstructions
        var hostReads = startHostReads

        @inline(__always) func read(_ register: UInt8, _ shift: UInt8, _ mask: UInt64) -> UInt64 {
            (r[Int(register)] &>> UInt64(shift)) & mask
        }
        @inline(__always) func write(_ op: OpRef, _ value: UInt64) {
            let d = Int(op.destination)
            r[d] = (r[d] & op.keep) | ((value & op.mask) &<< UInt64(op.destinationShift))
        }
        /// Ends a conditional or unconditional jump: to the target register's address when
        /// `taken` (a fault if that is not an instruction), else to the next instruction.
        @inline(__always) func branch(_ taken: Bool, _ op: OpRef) -> RunResult? {
            if taken {
                let target = r[Int(op.target)]
                guard target & 7 == 0 && target < programBytes else { return fault(.pcOutsideProgram, at: pc, detail: target) }
                pc = Int(truncatingIfNeeded: target &>> 3)
                cycles &+= 1 &+ jumpPenalty
            } else {
                pc &+= 1
                cycles &+= 1
            }
            return nil
        }
        func finish(_ fault: Fault?) -> RunResult {
            RunResult(instructions: instructions, cycles: cycles, hostReads: hostReads, fault: fault)
        }
        func fault(_ kind: FaultKind, at index: Int, detail: UInt64? = nil) -> RunResult {
            finish(Fault(kind: kind, pc: index * 8, cycle: cycles, detail: detail))
        }

        if entry >= instructionCount { return fault(.pcOutsideProgram, at: entry) }
        // Each case ends the instruction itself: it sets pc and adds its cycles. An
        // instruction that faults is not counted.
        while true {
            // Read fields through the pointer: copying the whole op costs more than the work.
            let op = OpRef(ops + pc)
            if cycles >= budget { return fault(.watchdog, at: pc) }
            observer.willExecute(pc: pc &* 8, cycle: cycles, registers: r)
            let here = pc
            switch op.handler {
            case .mask:
                let value = read(op.a, op.aShift, op.mask)
                let ones = read(op.c, op.cShift, op.mask)
                if let end = branch(value & read(op.b, op.bShift, op.mask) != 0 || value & ones != ones, op) { return end }
            case .equ:
                if let end = branch(read(op.a, op.aShift, op.mask) != read(op.b, op.bShift, op.mask), op) { return end }
            case .inf:
                if let end = branch(read(op.a, op.aShift, op.mask) >= read(op.b, op.bShift, op.mask), op) { return end }
            case .addRegisters:
                write(op, read(op.a, op.aShift, op.mask) &+ read(op.b, op.bShift, op.mask))
                pc &+= 1
                cycles &+= 1
            case .addImmediate:
                write(op, read(op.a, op.aShift, op.mask) &+ op.immediate)
                pc &+= 1
                cycles &+= 1
            case .hamm:
                let difference = (read(op.a, op.aShift, op.mask) ^ read(op.b, op.bShift, op.mask)) & read(op.c, op.cShift, op.mask)
                write(op, UInt64(difference.nonzeroBitCount))
                pc &+= 1
                cycles &+= 1
            case .intRegister, .intImmediate:
                let value = op.handler == .intImmediate ? op.immediate : read(op.a, op.aShift, op.mask)
                if value == 0 {
                    cycles &+= 1
                    instructions &+= 1
                    observer.didExecute(pc: here &* 8, cycle: cycles, registers: r)
                    return finish(nil)
                }
                alerts.append(Alert(value: value, pc: pc &* 8, cycle: cycles))
                pc &+= 1
                cycles &+= 1
            case .mload8, .mload16, .mload32, .mload64, .mloadImmediate8, .mloadImmediate16, .mloadImmediate32, .mloadImmediate64:
                let immediate = op.handler.rawValue >= Handler.mloadImmediate8.rawValue
                let offset = immediate ? op.immediate : r[Int(op.target)]
                let sizeIndex = (op.handler.rawValue &- Handler.mload8.rawValue) & 3
                let bytes = UInt64(1) &<< UInt64(sizeIndex)
                guard offset <= UInt64(InstructionSet.pageBytes) &- bytes else {
                    return fault(.mloadOutsidePage, at: pc, detail: offset)
                }
                let value: UInt64
                switch sizeIndex {
                case 0: value = UInt64(page.load(fromByteOffset: Int(offset), as: UInt8.self))
                case 1: value = UInt64(UInt16(littleEndian: page.loadUnaligned(fromByteOffset: Int(offset), as: UInt16.self)))
                case 2: value = UInt64(UInt32(littleEndian: page.loadUnaligned(fromByteOffset: Int(offset), as: UInt32.self)))
                default: value = UInt64(littleEndian: page.loadUnaligned(fromByteOffset: Int(offset), as: UInt64.self))
                }
                observer.didReadHost(offset: offset, bytes: Int(bytes), value: value)
                write(op, value)
                hostReads &+= 1
                pc &+= 1
                cycles &+= mloadCycles
            case .move:
                write(op, read(op.a, op.aShift, op.mask))
                pc &+= 1
                cycles &+= 1
            case .loadImmediate:
                write(op, op.immediate)
                pc &+= 1
                cycles &+= 1
            case .jumpRegister:
                if let end = branch(true, op) { return end }
            case .jumpImmediate:
                pc = Int(truncatingIfNeeded: op.immediate)
                cycles &+= 1 &+ jumpPenalty
            case .maskQ:
                let value = r[Int(op.a)], ones = r[Int(op.c)]
                if let end = branch(value & r[Int(op.b)] != 0 || value & ones != ones, op) { return end }
            case .equQ:
                if let end = branch(r[Int(op.a)] != r[Int(op.b)], op) { return end }
            case .infQ:
                if let end = branch(r[Int(op.a)] >= r[Int(op.b)], op) { return end }
            case .addRegistersQ:
                r[Int(op.destination)] = r[Int(op.a)] &+ r[Int(op.b)]
                pc &+= 1
                cycles &+= 1
            case .addImmediateQ:
                r[Int(op.destination)] = r[Int(op.a)] &+ op.immediate
                pc &+= 1
                cycles &+= 1
            case .hammQ:
                r[Int(op.destination)] = UInt64(((r[Int(op.a)] ^ r[Int(op.b)]) & r[Int(op.c)]).nonzeroBitCount)
                pc &+= 1
                cycles &+= 1
            case .moveQ:
                r[Int(op.destination)] = r[Int(op.a)]
                pc &+= 1
                cycles &+= 1
            case .loadImmediateQ:
                r[Int(op.destination)] = op.immediate
                pc &+= 1
                cycles &+= 1
            case .mloadQ, .mloadImmediateQ:
                let offset = op.handler == .mloadImmediateQ ? op.immediate : r[Int(op.target)]
                guard offset <= UInt64(InstructionSet.pageBytes - 8) else {
                    return fault(.mloadOutsidePage, at: pc, detail: offset)
                }
                let value = UInt64(littleEndian: page.loadUnaligned(fromByteOffset: Int(offset), as: UInt64.self))
                observer.didReadHost(offset: offset, bytes: 8, value: value)
                r[Int(op.destination)] = value
                hostReads &+= 1
                pc &+= 1
                cycles &+= mloadCycles
            case .maskN:
                let mask = op.mask
                let value = r[Int(op.a)] & mask, ones = r[Int(op.c)] & mask
                if let end = branch(value & r[Int(op.b)] != 0 || value & ones != ones, op) { return end }
            case .equN:
                if let end = branch((r[Int(op.a)] ^ r[Int(op.b)]) & op.mask != 0, op) { return end }
            case .infN:
                let mask = op.mask
                if let end = branch(r[Int(op.a)] & mask >= r[Int(op.b)] & mask, op) { return end }
            case .addRegistersN:
                r[Int(op.destination)] = (r[Int(op.a)] &+ r[Int(op.b)]) & op.mask
                pc &+= 1
                cycles &+= 1
            case .addImmediateN:
                r[Int(op.destination)] = (r[Int(op.a)] &+ op.immediate) & op.mask
                pc &+= 1
                cycles &+= 1
            case .moveN:
                r[Int(op.destination)] = r[Int(op.a)] & op.mask
                pc &+= 1
                cycles &+= 1
            case .undefined:
                return fault(.undefinedInstruction, at: pc, detail: op.immediate)
            case .badImmediateTarget:
                return fault(.pcOutsideProgram, at: pc, detail: op.immediate)
            case .end:
                return fault(.pcOutsideProgram, at: pc)
            }
            instructions &+= 1
            observer.didExecute(pc: here &* 8, cycle: cycles, registers: r)
        }
    }
}
