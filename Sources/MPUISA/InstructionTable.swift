// The MPU instruction set, as one table.
//
// Everything that knows about MPU instructions (the assembler, the decoder, the
// disassembler, the simulator's pre-decoder) reads `InstructionSet.specs`; nothing
// keeps a second list of opcodes or operand shapes. docs/isa.md explains each choice.

/// Operand width selected by the mnemonic's suffix (`loadb`, `loadw`, `loadd`, `loadq`).
/// A mnemonic without a suffix means `q`.
public enum OperandSize: UInt8, CaseIterable, Sendable, Comparable {
    case b = 0, w = 1, d = 2, q = 3

    public var bits: Int { 8 << Int(rawValue) }
    public var bytes: Int { 1 << Int(rawValue) }
    /// All-ones value of this width.
    public var mask: UInt64 { self == .q ? .max : (UInt64(1) << UInt64(bits)) - 1 }
    /// How many sub-registers of this width a 64-bit register holds (`r6_0`..`r6_{n-1}`).
    public var slotCount: Int { 8 >> Int(rawValue) }
    public var suffix: Character { ["b", "w", "d", "q"][Int(rawValue)] }
    /// Bits of the 32-bit immediate field that a Format 2 data value uses at this width.
    public var immediateBits: Int { min(bits, 32) }

    public init?(suffix: Character) {
        switch suffix {
        case "b", "B": self = .b
        case "w", "W": self = .w
        case "d", "D": self = .d
        case "q", "Q": self = .q
        default: return nil
        }
    }

    public static func < (a: OperandSize, b: OperandSize) -> Bool { a.rawValue < b.rawValue }
}

/// The 4-bit major opcode. Values missing here (0x0, 0x6-0xb) are undefined and fault.
public enum Opcode: UInt8, CaseIterable, Sendable {
    case mask = 0x1, equ = 0x2, inf = 0x3, add = 0x4, hamm = 0x5
    case int = 0xc, mload = 0xd, load = 0xe, jmp = 0xf
}

/// The two encodings of the slides: Format 1 takes registers only, Format 2 a register and
/// an immediate.
public enum Format: UInt8, Sendable {
    case registers = 0
    case immediate = 1
}

/// What an instruction does with one operand. The role decides how the operand is read
/// and which register forms it accepts.
public enum OperandRole: Sendable, Equatable {
    /// Written at the operation width: a plain register is zero-extended, a
    /// sub-register (`r6_1`) is written in place and the rest of the register kept.
    case destination
    /// Read at the operation width: the low bits of a plain register, or one sub-register.
    case source
    /// `add rD, $imm`: read and written at the operation width.
    case accumulator
    /// A jump target: the whole 64-bit register is a byte address in program memory.
    case target
    /// An `mload` offset: the whole 64-bit register is a byte offset into the page.
    case pageOffset

    /// Whether a sub-register (`rN_i`) may stand here.
    public var acceptsSubRegister: Bool {
        switch self {
        case .destination, .source, .accumulator: return true
        case .target, .pageOffset: return false
        }
    }

    public var writes: Bool { self == .destination || self == .accumulator }
}

/// How a Format 2 immediate is used.
public enum ImmediateRole: Sendable, Equatable {
    /// A data value: any value that fits the width as signed or unsigned.
    case value
    /// A program address or page offset: always the whole 32-bit field, unsigned, whatever
    /// the size (the size of an `mload` is how many bytes it reads, not how far it reaches).
    case address
}

public struct OperandSpec: Sendable, Equatable {
    /// Short name used in messages and docs ("value", "must-be-zero mask", ...).
    public let name: String
    public let role: OperandRole
}

public struct ImmediateFormSpec: Sendable, Equatable {
    /// The register in the register byte, or nil when the byte is unused (must be 0).
    public let register: OperandSpec?
    public let immediate: ImmediateRole
    public let immediateName: String
}

public struct InstructionSpec: Sendable {
    public let opcode: Opcode
    public let mnemonic: String
    /// Format 1 operands, in source order (also encoding order), or nil if the opcode
    /// has no register form.
    public let registerForm: [OperandSpec]?
    /// The name the register form is written with, when it differs (`mov` for `load`).
    public let registerFormMnemonic: String?
    public let immediateForm: ImmediateFormSpec?
    public let summary: String
    /// Whether this instruction may change the pc to something else than pc + 8.
    public var isJump: Bool { opcode == .mask || opcode == .equ || opcode == .inf || opcode == .jmp }

    public func mnemonic(for format: Format) -> String {
        format == .registers ? (registerFormMnemonic ?? mnemonic) : mnemonic
    }
}

public enum InstructionSet {
    /// Bytes per instruction: every instruction is one 64-bit program word.
    public static let instructionBytes = 8
    /// Program memory size in bytes (8192 instructions); every code address fits `loadw`.
    public static let programMemoryBytes = 0x10000
    public static let registerCount = 16
    /// Host pages the checker hands to the MPU, in bytes.
    public static let pageBytes = 4096
    /// Register that holds the page's physical base address when a run starts.
    public static let pageBaseRegister: UInt8 = 15
    /// Register that holds the page cursor (0) when a run starts.
    public static let cursorRegister: UInt8 = 1

    public static let specs: [InstructionSpec] = [
        InstructionSpec(
            opcode: .mask, mnemonic: "mask",
            registerForm: [
                OperandSpec(name: "value", role: .source),
                OperandSpec(name: "must-be-zero mask", role: .source),
                OperandSpec(name: "must-be-one mask", role: .source),
                OperandSpec(name: "target", role: .target),
            ],
            registerFormMnemonic: nil, immediateForm: nil,
            summary: "jump to target unless (value & zeros) == 0 and (value & ones) == ones"),
        InstructionSpec(
            opcode: .equ, mnemonic: "equ",
            registerForm: [
                OperandSpec(name: "left", role: .source),
                OperandSpec(name: "right", role: .source),
                OperandSpec(name: "target", role: .target),
            ],
            registerFormMnemonic: nil, immediateForm: nil,
            summary: "jump to target if left != right"),
        InstructionSpec(
            opcode: .inf, mnemonic: "inf",
            registerForm: [
                OperandSpec(name: "left", role: .source),
                OperandSpec(name: "right", role: .source),
                OperandSpec(name: "target", role: .target),
            ],
            registerFormMnemonic: nil, immediateForm: nil,
            summary: "jump to target if left >= right (unsigned); fall through if left < right"),
        InstructionSpec(
            opcode: .add, mnemonic: "add",
            registerForm: [
                OperandSpec(name: "destination", role: .destination),
                OperandSpec(name: "left", role: .source),
                OperandSpec(name: "right", role: .source),
            ],
            registerFormMnemonic: nil,
            immediateForm: ImmediateFormSpec(
                register: OperandSpec(name: "accumulator", role: .accumulator),
                immediate: .value, immediateName: "addend"),
            summary: "destination = left + right, or accumulator += immediate (modulo 2^width)"),
        InstructionSpec(
            opcode: .hamm, mnemonic: "hamm",
            registerForm: [
                OperandSpec(name: "destination", role: .destination),
                OperandSpec(name: "left", role: .source),
                OperandSpec(name: "right", role: .source),
                OperandSpec(name: "bit select", role: .source),
            ],
            registerFormMnemonic: nil, immediateForm: nil,
            summary: "destination = popcount((left ^ right) & select)"),
        InstructionSpec(
            opcode: .int, mnemonic: "int",
            registerForm: [OperandSpec(name: "value", role: .source)],
            registerFormMnemonic: nil,
            immediateForm: ImmediateFormSpec(register: nil, immediate: .value, immediateName: "value"),
            summary: "interrupt the LM32 with value; a value of 0 ends the run"),
        InstructionSpec(
            opcode: .mload, mnemonic: "mload",
            registerForm: [
                OperandSpec(name: "destination", role: .destination),
                OperandSpec(name: "page offset", role: .pageOffset),
            ],
            registerFormMnemonic: nil,
            immediateForm: ImmediateFormSpec(
                register: OperandSpec(name: "destination", role: .destination),
                immediate: .address, immediateName: "page offset"),
            summary: "destination = little-endian host-memory word at page base + offset"),
        InstructionSpec(
            opcode: .load, mnemonic: "load",
            registerForm: [
                OperandSpec(name: "destination", role: .destination),
                OperandSpec(name: "source", role: .source),
            ],
            registerFormMnemonic: "mov",
            immediateForm: ImmediateFormSpec(
                register: OperandSpec(name: "destination", role: .destination),
                immediate: .value, immediateName: "value"),
            summary: "destination = immediate (load) or = source register (mov)"),
        InstructionSpec(
            opcode: .jmp, mnemonic: "jmp",
            registerForm: [OperandSpec(name: "target", role: .target)],
            registerFormMnemonic: nil,
            immediateForm: ImmediateFormSpec(register: nil, immediate: .address, immediateName: "target"),
            summary: "jump to target"),
    ]

    /// Spec by opcode value (index 0..15); nil for undefined opcodes.
    public static let byOpcode: [InstructionSpec?] = {
        var table = [InstructionSpec?](repeating: nil, count: 16)
        for spec in specs { table[Int(spec.opcode.rawValue)] = spec }
        return table
    }()

    public static func spec(_ opcode: Opcode) -> InstructionSpec { byOpcode[Int(opcode.rawValue)]! }

    /// Base mnemonics as written in source, including `mov`, mapped to their spec and the
    /// format the name implies (nil: decided by the operands).
    public static let mnemonics: [String: (spec: InstructionSpec, format: Format?)] = {
        var names: [String: (spec: InstructionSpec, format: Format?)] = [:]
        for spec in specs {
            names[spec.mnemonic] = (spec, nil)
            if let alias = spec.registerFormMnemonic { names[alias] = (spec, .registers) }
        }
        return names
    }()

    /// Every mnemonic an author may write (with and without suffix), for suggestions.
    public static let allSpellings: [String] = {
        var all: [String] = []
        for name in mnemonics.keys.sorted() {
            all.append(name)
            for size in OperandSize.allCases { all.append(name + String(size.suffix)) }
        }
        return all
    }()

    /// Splits `loadd` into (`load`, .d); `add` alone is `add` with the default size `q`
    /// (so `addd` is add on 32 bits). Case-insensitive.
    public static func parseMnemonic(_ word: String) -> (name: String, size: OperandSize, explicitSize: Bool)? {
        let lower = word.lowercased()
        if mnemonics[lower] != nil { return (lower, .q, false) }
        guard let last = lower.last, let size = OperandSize(suffix: last) else { return nil }
        let base = String(lower.dropLast())
        guard mnemonics[base] != nil else { return nil }
        return (base, size, true)
    }
}
