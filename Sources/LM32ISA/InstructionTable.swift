// The LatticeMico32 instruction set, as one table (the LatticeMico32 Processor Reference Manual; docs/lm32.md).
//
// Every instruction is 32 bits, big-endian in memory, with a 6-bit major opcode in bits
// 31:26. The table below drives the encoder, the decoder, the disassembler and the
// simulator (its pre-decoder, its dispatch on named operations, its latency model); nothing else keeps a list of opcodes.

/// How the operand fields of a word are laid out and written.
public enum LM32Format: Sendable, Equatable {
    /// `op rX, rY, imm16`: rY (25:21) source, rX (20:16) destination.
    case immediate(ImmediateKind)
    /// `lw rX, (rY+imm16)`.
    case load
    /// `sw (rY+imm16), rZ`: rY (25:21) base, rZ (20:16) data.
    case store
    /// `be rY, rZ, target`: word offset imm16 from the branch's own address.
    case branch
    /// `add rX, rY, rZ`: rY (25:21), rZ (20:16), rX (15:11); bits 10:0 zero.
    case registers
    /// `sextb rX, rY`: rZ zero.
    case unary
    /// `b rY` / `call rY`.
    case jumpRegister
    /// `bi target` / `calli target`: word offset imm26.
    case jumpImmediate
    /// `rcsr rX, CSR`: CSR number in 25:21, rX in 15:11.
    case readCSR
    /// `wcsr CSR, rZ`: CSR number in 25:21, rZ in 20:16.
    case writeCSR
    /// `scall` (code 7) / `break` (code 2) in bits 25:0.
    case raise
    /// `user rX, rY, rZ, op11`.
    case user
    /// No instruction: an illegal-instruction slot.
    case reserved
}

/// How a 16-bit immediate extends to 32 bits (and how the disassembler prints it).
public enum ImmediateKind: Sendable, Equatable {
    /// Sign-extended, printed in decimal (addi, muli, cmpei...).
    case signed
    /// Zero-extended, printed in hex (andi, ori, xori, nori, xnori, cmpgeui, cmpgui).
    case unsigned
    /// Placed in bits 31:16 (andhi, orhi), printed in hex.
    case high
    /// A shift count: only bits 4:0 are used, printed in decimal.
    case shift
}

/// The operations, named; the raw value is the major opcode (bits 31:26). The simulator
/// dispatches on these names, the assembler and disassembler find them by mnemonic.
public enum LM32Operation: UInt8, Sendable, CaseIterable {
    case srui = 0x00, nori, muli, sh, lb, sri, xori, lh
    case andi = 0x08, xnori, lw, lhu, sb, addi, ori, sli
    case lbu = 0x10, be, bg, bge, bgeu, bgu, sw, bne
    case andhi = 0x18, cmpei, cmpgi, cmpgei, cmpgeui, cmpgui, orhi, cmpnei
    case sru = 0x20, nor, mul, divu, rcsr, sr, xor, reserved27
    case and = 0x28, xnor, reserved2a, raise, sextb, add, or, sl
    case b = 0x30, modu, sub, user, wcsr, reserved35, call, sexth
    case bi = 0x38, cmpe, cmpg, cmpge, cmpgeu, cmpgu, calli, cmpne

    public var opcode: UInt8 { rawValue }
    public var spec: LM32Spec { LM32.specs[Int(rawValue)] }
}

/// The relation a compare (cmpe, cmpei...) or conditional branch (be...) tests: the low three
/// bits of its opcode, the same in the register, immediate and branch forms.
public enum LM32Relation: UInt8, Sendable {
    case equal = 1, greater, greaterOrEqual, greaterOrEqualUnsigned, greaterUnsigned
    case notEqual = 7

    /// For each relation (by raw value), a byte whose bit k says whether it holds when
    /// k = (a == b) | (a > b signed) << 1 | (a > b unsigned) << 2.
    @usableFromInline static var truth: UInt64 { 0x55_00_F0_FA_EE_CC_AA_00 }

    /// Whether the relation `opcode & 7` holds: branch-free, for the simulator's compares and
    /// branches (their opcodes' low three bits name the relation in all three forms).
    @inlinable @inline(__always)
    public static func holds(opcode: UInt8, _ a: UInt32, _ b: UInt32) -> Bool {
        let facts = (a == b ? 1 : 0) | (Int32(bitPattern: a) > Int32(bitPattern: b) ? 2 : 0) | (a > b ? 4 : 0)
        return (truth >> (UInt64(opcode & 7) &* 8 &+ UInt64(facts))) & 1 != 0
    }
}

public struct LM32Spec: Sendable {
    public let operation: LM32Operation
    public let mnemonic: String
    public let format: LM32Format
    /// Cycles until the result can be used by the next instruction (docs/timing.md, "LM32"):
    /// 1 for the adder, logic and sign extension (bypassed from X), 2 for compares and shifts
    /// (from M), 3 for loads and multiplies (from W). Instructions without a result: 1.
    public let latency: UInt8
    public var opcode: UInt8 { operation.rawValue }

    /// What the instruction reads and writes, by field (the simulator's latency model and a
    /// debugger's view): `nil` where it reads or writes no general register.
    public var roles: (source1: Field?, source2: Field?, destination: Field?) {
        switch format {
        case .immediate, .load: return (.r0, nil, .r1)
        case .unary: return (.r0, nil, .r2)
        case .registers: return (.r0, .r1, .r2)
        case .store, .branch, .user: return (.r0, .r1, nil)
        case .jumpRegister: return (.r0, nil, operation == .call ? .ra : nil)
        case .jumpImmediate: return (nil, nil, operation == .calli ? .ra : nil)
        case .readCSR: return (nil, nil, .r2)
        case .writeCSR: return (.r1, nil, nil)
        case .raise, .reserved: return (nil, nil, nil)
        }
    }

    /// Where an operand register comes from: a field of the word, or ra (r29) for the calls.
    public enum Field: Sendable { case r0, r1, r2, ra }
}

public enum LM32 {
    public static let specs: [LM32Spec] = {
        // (operation, mnemonic, format, latency)
        let entries: [(LM32Operation, String, LM32Format, UInt8)] = [
            (.srui, "srui", .immediate(.shift), 2), (.nori, "nori", .immediate(.unsigned), 1), (.muli, "muli", .immediate(.signed), 3),
            (.sh, "sh", .store, 1), (.lb, "lb", .load, 3), (.sri, "sri", .immediate(.shift), 2), (.xori, "xori", .immediate(.unsigned), 1),
            (.lh, "lh", .load, 3), (.andi, "andi", .immediate(.unsigned), 1), (.xnori, "xnori", .immediate(.unsigned), 1), (.lw, "lw", .load, 3),
            (.lhu, "lhu", .load, 3), (.sb, "sb", .store, 1), (.addi, "addi", .immediate(.signed), 1), (.ori, "ori", .immediate(.unsigned), 1),
            (.sli, "sli", .immediate(.shift), 2), (.lbu, "lbu", .load, 3), (.be, "be", .branch, 1), (.bg, "bg", .branch, 1),
            (.bge, "bge", .branch, 1), (.bgeu, "bgeu", .branch, 1), (.bgu, "bgu", .branch, 1), (.sw, "sw", .store, 1), (.bne, "bne", .branch, 1),
            (.andhi, "andhi", .immediate(.high), 1), (.cmpei, "cmpei", .immediate(.signed), 2), (.cmpgi, "cmpgi", .immediate(.signed), 2),
            (.cmpgei, "cmpgei", .immediate(.signed), 2), (.cmpgeui, "cmpgeui", .immediate(.unsigned), 2), (.cmpgui, "cmpgui", .immediate(.unsigned), 2),
            (.orhi, "orhi", .immediate(.high), 1), (.cmpnei, "cmpnei", .immediate(.signed), 2),
            (.sru, "sru", .registers, 2), (.nor, "nor", .registers, 1), (.mul, "mul", .registers, 3), (.divu, "divu", .registers, 1),
            (.rcsr, "rcsr", .readCSR, 1), (.sr, "sr", .registers, 2), (.xor, "xor", .registers, 1), (.reserved27, "reserved", .reserved, 1),
            (.and, "and", .registers, 1), (.xnor, "xnor", .registers, 1), (.reserved2a, "reserved", .reserved, 1), (.raise, "raise", .raise, 1),
            (.sextb, "sextb", .unary, 1), (.add, "add", .registers, 1), (.or, "or", .registers, 1), (.sl, "sl", .registers, 2),
            (.b, "b", .jumpRegister, 1), (.modu, "modu", .registers, 1), (.sub, "sub", .registers, 1), (.user, "user", .user, 1),
            (.wcsr, "wcsr", .writeCSR, 1), (.reserved35, "reserved", .reserved, 1), (.call, "call", .jumpRegister, 1), (.sexth, "sexth", .unary, 1),
            (.bi, "bi", .jumpImmediate, 1), (.cmpe, "cmpe", .registers, 2), (.cmpg, "cmpg", .registers, 2), (.cmpge, "cmpge", .registers, 2),
            (.cmpgeu, "cmpgeu", .registers, 2), (.cmpgu, "cmpgu", .registers, 2), (.calli, "calli", .jumpImmediate, 1), (.cmpne, "cmpne", .registers, 2),
        ]
        precondition(entries.enumerated().allSatisfy { $0.offset == Int($0.element.0.rawValue) })
        return entries.map { LM32Spec(operation: $0.0, mnemonic: $0.1, format: $0.2, latency: $0.3) }
    }()

    /// The operation a mnemonic names (not the reserved slots nor `raise`, written as scall
    /// and break).
    public static func operation(named mnemonic: String) -> LM32Operation? {
        specs.first { $0.mnemonic == mnemonic && $0.format != .reserved && $0.format != .raise }?.operation
    }

    /// GNU names for r26-r31.
    public static let registerNames = (0..<26).map { "r\($0)" } + ["gp", "fp", "sp", "ra", "ea", "ba"]

    /// CSR numbers and names, as GNU as and objdump write them.
    public static let csrNames: [UInt8: String] = [
        0x00: "IE", 0x01: "IM", 0x02: "IP", 0x03: "ICC", 0x04: "DCC", 0x05: "CC", 0x06: "CFG", 0x07: "EBA",
        0x08: "DC", 0x09: "DEBA", 0x0a: "CFG2", 0x0e: "JTX", 0x0f: "JRX",
        0x10: "BP0", 0x11: "BP1", 0x12: "BP2", 0x13: "BP3", 0x18: "WP0", 0x19: "WP1", 0x1a: "WP2", 0x1b: "WP3",
    ]
}

/// A decoded LM32 instruction: the word's fields, named by role.
public struct LM32Instruction: Hashable, Sendable {
    public var word: UInt32

    public init(word: UInt32) { self.word = word }

    public var opcode: UInt8 { UInt8(word >> 26) }
    /// Every 6-bit opcode names an operation (the reserved slots too).
    public var operation: LM32Operation { LM32Operation(rawValue: opcode)! }
    public var spec: LM32Spec { LM32.specs[Int(opcode)] }
    /// Bits 25:21.
    public var r0: UInt8 { UInt8((word >> 21) & 31) }
    /// Bits 20:16.
    public var r1: UInt8 { UInt8((word >> 16) & 31) }
    /// Bits 15:11.
    public var r2: UInt8 { UInt8((word >> 11) & 31) }
    public var imm16: UInt16 { UInt16(word & 0xffff) }
    public var imm26: UInt32 { word & 0x3ff_ffff }

    /// The immediate as the instruction uses it.
    public var immediateValue: UInt32 {
        guard case .immediate(let kind) = spec.format else { return UInt32(bitPattern: Int32(Int16(bitPattern: imm16))) }
        switch kind {
        case .signed: return UInt32(bitPattern: Int32(Int16(bitPattern: imm16)))
        case .unsigned: return UInt32(imm16)
        case .high: return UInt32(imm16) << 16
        case .shift: return UInt32(imm16) & 31
        }
    }

    /// Byte offset of a branch or bi/calli target from the instruction's own address.
    public var branchOffset: Int32 {
        switch spec.format {
        case .jumpImmediate: return (Int32(bitPattern: imm26 << 6) >> 6) << 2
        default: return Int32(Int16(bitPattern: imm16)) << 2
        }
    }

    // MARK: Encoding

    public static func immediate(_ opcode: UInt8, rX: UInt8, rY: UInt8, imm16: UInt16) -> LM32Instruction {
        LM32Instruction(word: UInt32(opcode) << 26 | UInt32(rY) << 21 | UInt32(rX) << 16 | UInt32(imm16))
    }

    public static func registers(_ opcode: UInt8, rX: UInt8, rY: UInt8, rZ: UInt8) -> LM32Instruction {
        LM32Instruction(word: UInt32(opcode) << 26 | UInt32(rY) << 21 | UInt32(rZ) << 16 | UInt32(rX) << 11)
    }
}
