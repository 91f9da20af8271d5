// The LatticeMico32 instruction set, as one table (the LatticeMico32 Processor Reference Manual; docs/lm32.md).
//
// Every instruction is 32 bits, big-endian in memory, with a 6-bit major opcode in bits
// 31:26. The table below drives the encoder, the decoder and the disassembler (and will
// drive the simulator's pre-decoder); nothing else keeps a list of opcodes.

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

public struct LM32Spec: Sendable {
    public let opcode: UInt8
    public let mnemonic: String
    public let format: LM32Format
}

public enum LM32 {
    public static let specs: [LM32Spec] = {
        let entries: [(UInt8, String, LM32Format)] = [
            (0x00, "srui", .immediate(.shift)), (0x01, "nori", .immediate(.unsigned)), (0x02, "muli", .immediate(.signed)),
            (0x03, "sh", .store), (0x04, "lb", .load), (0x05, "sri", .immediate(.shift)), (0x06, "xori", .immediate(.unsigned)),
            (0x07, "lh", .load), (0x08, "andi", .immediate(.unsigned)), (0x09, "xnori", .immediate(.unsigned)), (0x0a, "lw", .load),
            (0x0b, "lhu", .load), (0x0c, "sb", .store), (0x0d, "addi", .immediate(.signed)), (0x0e, "ori", .immediate(.unsigned)),
            (0x0f, "sli", .immediate(.shift)), (0x10, "lbu", .load), (0x11, "be", .branch), (0x12, "bg", .branch),
            (0x13, "bge", .branch), (0x14, "bgeu", .branch), (0x15, "bgu", .branch), (0x16, "sw", .store), (0x17, "bne", .branch),
            (0x18, "andhi", .immediate(.high)), (0x19, "cmpei", .immediate(.signed)), (0x1a, "cmpgi", .immediate(.signed)),
            (0x1b, "cmpgei", .immediate(.signed)), (0x1c, "cmpgeui", .immediate(.unsigned)), (0x1d, "cmpgui", .immediate(.unsigned)),
            (0x1e, "orhi", .immediate(.high)), (0x1f, "cmpnei", .immediate(.signed)),
            (0x20, "sru", .registers), (0x21, "nor", .registers), (0x22, "mul", .registers), (0x23, "divu", .registers),
            (0x24, "rcsr", .readCSR), (0x25, "sr", .registers), (0x26, "xor", .registers), (0x27, "reserved", .reserved),
            (0x28, "and", .registers), (0x29, "xnor", .registers), (0x2a, "reserved", .reserved), (0x2b, "raise", .raise),
            (0x2c, "sextb", .unary), (0x2d, "add", .registers), (0x2e, "or", .registers), (0x2f, "sl", .registers),
            (0x30, "b", .jumpRegister), (0x31, "modu", .registers), (0x32, "sub", .registers), (0x33, "user", .user),
            (0x34, "wcsr", .writeCSR), (0x35, "reserved", .reserved), (0x36, "call", .jumpRegister), (0x37, "sexth", .unary),
            (0x38, "bi", .jumpImmediate), (0x39, "cmpe", .registers), (0x3a, "cmpg", .registers), (0x3b, "cmpge", .registers),
            (0x3c, "cmpgeu", .registers), (0x3d, "cmpgu", .registers), (0x3e, "calli", .jumpImmediate), (0x3f, "cmpne", .registers),
        ]
        precondition(entries.enumerated().allSatisfy { $0.offset == Int($0.element.0) })
        return entries.map { LM32Spec(opcode: $0.0, mnemonic: $0.1, format: $0.2) }
    }()

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
