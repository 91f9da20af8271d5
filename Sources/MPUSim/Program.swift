import Foundation
import MPUISA

/// What a pre-decoded instruction does. One case per opcode and format (and per size
/// for `mload`, whose access width decides how many bytes to read), so the interpreter's
/// switch does the work of decoding only once, when the program is loaded.
enum Handler: UInt8 {
    case mask, equ, inf, addRegisters, addImmediate, hamm, intRegister, intImmediate
    case mload8, mload16, mload32, mload64, mloadImmediate8, mloadImmediate16, mloadImmediate32, mloadImmediate64
    case move, loadImmediate, jumpRegister, jumpImmediate
    /// The same at size q, where every operand is a whole register: no shift, mask or keep.
    case maskQ, equQ, infQ, addRegistersQ, addImmediateQ, hammQ, moveQ, loadImmediateQ, mloadQ, mloadImmediateQ
    /// The same at b, w or d when every operand is a whole register: a mask, no shifts.
    case maskN, equN, infN, addRegistersN, addImmediateN, moveN
    /// A word that does not decode: executing it faults.
    case undefined
    /// A `jmp $target` whose target is not an instruction: executing it faults.
    case badImmediateTarget
    /// Past the last instruction.
    case end
}

/// A pre-decoded instruction: register indices, sub-register shifts and the masks that
/// make reads and writes of any size and slot one formula each:
///   read  = (register >> shift) & mask
///   write = (register & keep) | ((value & mask) << shift)
/// A plain-register write has keep 0 (zero-extends); a sub-register write keeps the
/// other slots. Writes to r0 go to register 16, which nothing reads.
struct MicroOp {
    var handler: Handler
    var destination: UInt8 = 16
    var a: UInt8 = 0
    var b: UInt8 = 0
    var c: UInt8 = 0
    /// Register holding a jump target.
    var target: UInt8 = 0
    var destinationShift: UInt8 = 0
    var aShift: UInt8 = 0
    var bShift: UInt8 = 0
    var cShift: UInt8 = 0
    var mask: UInt64 = .max
    var keep: UInt64 = 0
    /// Immediate value (extended as the ISA says), page offset, or target instruction index.
    var immediate: UInt64 = 0
}

extension MicroOp {
    /// Whether the instruction writes its destination register.
    var writesDestination: Bool {
        switch handler {
        case .addRegisters, .addImmediate, .hamm, .move, .loadImmediate, .mload8, .mload16, .mload32, .mload64,
             .mloadImmediate8, .mloadImmediate16, .mloadImmediate32, .mloadImmediate64,
             .addRegistersQ, .addImmediateQ, .hammQ, .moveQ, .loadImmediateQ, .mloadQ, .mloadImmediateQ,
             .addRegistersN, .addImmediateN, .moveN:
            return true
        case .mask, .equ, .inf, .intRegister, .intImmediate, .jumpRegister, .jumpImmediate, .undefined,
             .badImmediateTarget, .end, .maskQ, .equQ, .infQ, .maskN, .equN, .infN:
            return false
        }
    }
}

/// A pre-decoded instruction read in place: each field is loaded only where it is used.
struct OpRef {
    let p: UnsafePointer<MicroOp>
    @inline(__always) init(_ p: UnsafePointer<MicroOp>) { self.p = p }
    @inline(__always) var handler: Handler { p.pointee.handler }
    @inline(__always) var destination: UInt8 { p.pointee.destination }
    @inline(__always) var a: UInt8 { p.pointee.a }
    @inline(__always) var b: UInt8 { p.pointee.b }
    @inline(__always) var c: UInt8 { p.pointee.c }
    @inline(__always) var target: UInt8 { p.pointee.target }
    @inline(__always) var destinationShift: UInt8 { p.pointee.destinationShift }
    @inline(__always) var aShift: UInt8 { p.pointee.aShift }
    @inline(__always) var bShift: UInt8 { p.pointee.bShift }
    @inline(__always) var cShift: UInt8 { p.pointee.cShift }
    @inline(__always) var mask: UInt64 { p.pointee.mask }
    @inline(__always) var keep: UInt64 { p.pointee.keep }
    @inline(__always) var immediate: UInt64 { p.pointee.immediate }
}

/// The decoded program in one allocation that lives as long as its automaton, so the hot
/// path can hold a plain pointer to it (no reference counting per page).
final class ProgramStorage: @unchecked Sendable {
    let ops: UnsafeMutableBufferPointer<MicroOp>
    /// Registers after the prologue (see `Automaton.prologueLength`).
    let prologueRegisters: UnsafeMutableBufferPointer<UInt64>
    /// Registers no instruction after the prologue writes, with their value after it: the
    /// compiled tier treats them as constants. r0 and r15 (the page base) are never listed.
    var constants: [UInt8: UInt64] = [:]
    /// The compiled tier's function, built on first use (NativeTier.swift).
    let nativeLock = NSLock()
    var entry = 0
    var prologueLength = 0
    var nativeResult: Result<NativeFunction, NativeCompileError>?

    init(_ ops: [MicroOp]) {
        self.ops = .allocate(capacity: ops.count)
        _ = self.ops.initialize(from: ops)
        prologueRegisters = .allocate(capacity: 17)
        prologueRegisters.initialize(repeating: 0)
    }

    deinit {
        ops.deallocate()
        prologueRegisters.deallocate()
    }
}

/// What the interpreter needs of an automaton: plain values only.
struct RunnableProgram {
    let ops: UnsafePointer<MicroOp>
    /// Instructions, not counting the end sentinel.
    let instructionCount: Int
    let entry: Int
    /// Instructions from the entry that give the same registers on every page.
    let prologueLength: Int
    let prologueRegisters: UnsafePointer<UInt64>
}

/// An automaton ready to run: its image, and its program decoded once.
public struct Automaton: Sendable {
    public let name: String
    public let image: MPUImage
    let storage: ProgramStorage
    let entryIndex: Int
    /// The straight run of instructions at the entry that only compute registers from
    /// constants (immediate loads, moves, adds, hamm; nothing that reads the page, touches
    /// r15, jumps or interrupts). Their result is the same on every page, so it is computed
    /// once here and runs start after it, with its instructions and cycles (1 each) counted.
    let prologueLength: Int

    public var metadata: MPUMetadata { image.metadata }
    public var instructionCount: Int { storage.ops.count - 1 }

    /// Valid while this automaton (or a copy) is alive.
    var runnable: RunnableProgram {
        RunnableProgram(ops: UnsafePointer(storage.ops.baseAddress!), instructionCount: storage.ops.count - 1, entry: entryIndex,
                        prologueLength: prologueLength, prologueRegisters: UnsafePointer(storage.prologueRegisters.baseAddress!))
    }

    /// `name` defaults to the image's `.automaton` name.
    public init(image: MPUImage, name: String? = nil) {
        self.image = image
        self.name = name ?? image.metadata.name ?? "automaton"
        let lines = Disassembler.decode(code: image.code)
        var ops = lines.map { line -> MicroOp in
            switch line.instruction {
            case .success(let instruction): return Automaton.microOp(instruction, instructionCount: lines.count)
            case .failure: return MicroOp(handler: .undefined, immediate: line.word)
            }
        }
        ops.append(MicroOp(handler: .end))
        let entry = Int(image.entry) / InstructionSet.instructionBytes
        self.entryIndex = entry

        // The prologue: pure register instructions from the entry that leave r15 alone.
        var length = 0
        while entry + length < lines.count, case .success(let instruction) = lines[entry + length].instruction,
              [.load, .add, .hamm].contains(instruction.opcode), !instruction.registers.contains(where: { $0.number == 15 }) {
            length += 1
        }
        self.prologueLength = length
        // Run it once with the interpreter itself: the prologue followed by the end sentinel.
        // (An entry past the code, which the checker's registers allow, has no prologue: the
        // run faults at once, "pc outside the program".)
        var prologue = length == 0 ? [] : Array(ops[entry..<(entry + length)])
        prologue.append(MicroOp(handler: .end))
        let storage = ProgramStorage(ops)
        storage.entry = entry
        storage.prologueLength = length
        self.storage = storage
        if length > 0 {
            var alerts: [Alert] = []
            var observer = NoObserver()
            let mpu = MPU(timing: .slides)
            _ = prologue.withUnsafeBufferPointer { ops in
                mpu.execute(ops: ops.baseAddress!, instructionCount: length, entry: 0, page: UnsafeRawPointer(storage.ops.baseAddress!),
                            registers: storage.prologueRegisters.baseAddress!, cycles: 0, instructions: 0, hostReads: 0,
                            alerts: &alerts, observer: &observer)
            }
        }
        // Registers written only by the prologue's immediate loads keep their value in every
        // run: even a jump back into the prologue loads the same values again.
        var written = Set<UInt8>()
        for (index, op) in ops.enumerated() where op.writesDestination {
            let immediateLoadInPrologue = (entry..<(entry + length)).contains(index)
                && (op.handler == .loadImmediate || op.handler == .loadImmediateQ)
            if !immediateLoadInPrologue { written.insert(op.destination) }
        }
        for register in UInt8(1)...14 where !written.contains(register) {
            storage.constants[register] = storage.prologueRegisters[Int(register)]
        }
    }

    /// The instruction at a byte address, for traces.
    public func instruction(at pc: Int) -> Instruction? {
        let index = pc / InstructionSet.instructionBytes
        guard pc % InstructionSet.instructionBytes == 0, index < instructionCount else { return nil }
        return try? Instruction(decoding: Instruction.word(from: image.code[(index * 8)..<(index * 8 + 8)]))
    }

    static func microOp(_ instruction: Instruction, instructionCount: Int) -> MicroOp {
        let size = instruction.size
        var op = MicroOp(handler: .undefined)
        op.mask = size.mask
        let registers = instruction.registers
        let roles = instruction.registerSpecs.map(\.role)

        func shift(_ register: RegisterRef) -> UInt8 { UInt8(Int(register.slot ?? 0) * size.bits) }
        func setDestination(_ register: RegisterRef) {
            op.destination = register.number == 0 ? 16 : register.number
            op.destinationShift = shift(register)
            op.keep = register.slot == nil ? 0 : ~(size.mask << UInt64(op.destinationShift))
        }
        // Source operands fill a, b, c in order; the target (or page offset) register is `target`.
        var sources: [(UInt8, UInt8)] = []
        for (register, role) in zip(registers, roles) {
            switch role {
            case .destination: setDestination(register)
            case .accumulator:
                setDestination(register)
                sources.append((register.number, shift(register)))
            case .source: sources.append((register.number, shift(register)))
            case .target, .pageOffset: op.target = register.number
            }
        }
        if sources.count > 0 { (op.a, op.aShift) = sources[0] }
        if sources.count > 1 { (op.b, op.bShift) = sources[1] }
        if sources.count > 2 { (op.c, op.cShift) = sources[2] }

        let immediateForm = instruction.format == .immediate
        op.immediate = instruction.immediateValue
        let sizeIndex = Int(size.rawValue)
        switch instruction.opcode {
        case .mask: op.handler = .mask
        case .equ: op.handler = .equ
        case .inf: op.handler = .inf
        case .add: op.handler = immediateForm ? .addImmediate : .addRegisters
        case .hamm: op.handler = .hamm
        case .int: op.handler = immediateForm ? .intImmediate : .intRegister
        case .mload:
            op.handler = immediateForm
                ? [.mloadImmediate8, .mloadImmediate16, .mloadImmediate32, .mloadImmediate64][sizeIndex]
                : [.mload8, .mload16, .mload32, .mload64][sizeIndex]
        case .load: op.handler = immediateForm ? .loadImmediate : .move
        case .jmp:
            if immediateForm {
                let target = op.immediate
                if target % UInt64(InstructionSet.instructionBytes) == 0 && target / 8 < UInt64(instructionCount) {
                    op.handler = .jumpImmediate
                    op.immediate = target / 8
                } else {
                    op.handler = .badImmediateTarget
                }
            } else {
                op.handler = .jumpRegister
            }
        }
        let plain = registers.allSatisfy { $0.slot == nil }
        if size != .q && plain {
            let narrow: [Handler: Handler] = [.mask: .maskN, .equ: .equN, .inf: .infN, .addRegisters: .addRegistersN,
                                              .addImmediate: .addImmediateN, .move: .moveN, .loadImmediate: .loadImmediateQ]
            op.handler = narrow[op.handler] ?? op.handler
        }
        if size == .q {
            let wide: [Handler: Handler] = [.mask: .maskQ, .equ: .equQ, .inf: .infQ, .addRegisters: .addRegistersQ,
                                            .addImmediate: .addImmediateQ, .hamm: .hammQ, .move: .moveQ,
                                            .loadImmediate: .loadImmediateQ, .mload64: .mloadQ, .mloadImmediate64: .mloadImmediateQ]
            op.handler = wide[op.handler] ?? op.handler
        }
        return op
    }
}
