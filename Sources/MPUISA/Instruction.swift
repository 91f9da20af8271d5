// One MPU instruction, its 64-bit encoding, and the decoder.
//
// Word layout (big-endian in program memory, so byte 0 is the header):
//   63..60 opcode   59..58 size   57 format   56 reserved (0)
//   Format 1: 55..48 operand 0, 47..40 operand 1, 39..32 operand 2, 31..24 operand 3,
//             23..0 reserved (0)
//   Format 2: 55..48 register byte, 47..32 reserved (0), 31..0 immediate
// Register byte: 7..4 register number, 3 sub-register flag, 2..0 sub-register index.
// Unused operand bytes, reserved bits and immediate bits above the width are 0.

/// A register operand: `r6` (plain) or `r6_1` (sub-register 1 at the operation width).
public struct RegisterRef: Hashable, Sendable, CustomStringConvertible {
    public var number: UInt8
    /// Sub-register index, or nil for the plain register.
    public var slot: UInt8?

    public init(_ number: UInt8, slot: UInt8? = nil) {
        self.number = number
        self.slot = slot
    }

    public var byte: UInt8 {
        (number << 4) | (slot == nil ? 0 : 0x8 | (slot! & 0x7))
    }

    public var description: String {
        slot.map { "r\(number)_\($0)" } ?? "r\(number)"
    }
}

public struct Instruction: Hashable, Sendable {
    public var opcode: Opcode
    public var size: OperandSize
    public var format: Format
    /// Format 1: every operand. Format 2: the register byte's operand, if the form has one.
    public var registers: [RegisterRef]
    /// Format 2 only: the raw immediate field (only the low `size.immediateBits` bits are used).
    public var immediate: UInt32

    public init(opcode: Opcode, size: OperandSize, format: Format, registers: [RegisterRef], immediate: UInt32 = 0) {
        self.opcode = opcode
        self.size = size
        self.format = format
        self.registers = registers
        self.immediate = immediate
    }

    public var spec: InstructionSpec { InstructionSet.spec(opcode) }

    /// Operand specs of this instruction's registers, in order.
    public var registerSpecs: [OperandSpec] {
        switch format {
        case .registers: return spec.registerForm ?? []
        case .immediate: return spec.immediateForm?.register.map { [$0] } ?? []
        }
    }

    /// Bits of the immediate field this instruction uses: 32 for addresses, else the width.
    public var immediateFieldBits: Int {
        spec.immediateForm?.immediate == .address ? 32 : size.immediateBits
    }

    /// The immediate as the machine uses it: an address is the unsigned 32-bit field; a value
    /// is zero-extended at b/w/d and sign-extended from 32 bits at q.
    public var immediateValue: UInt64 {
        if spec.immediateForm?.immediate == .address { return UInt64(immediate) }
        return size == .q ? UInt64(bitPattern: Int64(Int32(bitPattern: immediate))) : UInt64(immediate) & size.mask
    }

    public var encoded: UInt64 {
        var word = UInt64(opcode.rawValue) << 60 | UInt64(size.rawValue) << 58 | UInt64(format.rawValue) << 57
        switch format {
        case .registers:
            for (index, register) in registers.enumerated() {
                word |= UInt64(register.byte) << UInt64(48 - 8 * index)
            }
        case .immediate:
            if let register = registers.first { word |= UInt64(register.byte) << 48 }
            word |= UInt64(immediate)
        }
        return word
    }

    /// The 8 program-memory bytes of this instruction.
    public var bytes: [UInt8] { Instruction.bytes(of: encoded) }

    public static func bytes(of word: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * $0)) }
    }

    public static func word(from bytes: some Collection<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

public struct DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var word: UInt64
    /// Written when asked for: a simulator decoding a program memory full of data words only
    /// needs to know they do not decode (formatting every reason was a third of the fuzzed
    /// SoC's time, in the checker's decoding of 64 KiB of program memory).
    private let explain: @Sendable () -> String
    public var reason: String { explain() }
    public var description: String { "cannot decode \(hex(word, digits: 16)): \(reason)" }

    public init(word: UInt64, reason: @autoclosure @escaping @Sendable () -> String) {
        self.word = word
        self.explain = reason
    }

    public static func == (a: DecodeError, b: DecodeError) -> Bool { a.word == b.word && a.reason == b.reason }
}

extension Instruction {
    /// Decodes one program word, checking every reserved bit and operand constraint, so that
    /// a word that decodes re-encodes to itself.
    public init(decoding word: UInt64) throws(DecodeError) {
        func fail(_ reason: @autoclosure @escaping @Sendable () -> String) -> DecodeError { DecodeError(word: word, reason: reason()) }
        let opcodeBits = UInt8(word >> 60)
        guard let opcode = Opcode(rawValue: opcodeBits), let spec = InstructionSet.byOpcode[Int(opcodeBits)] else {
            throw fail("undefined opcode 0x\(String(opcodeBits, radix: 16))")
        }
        let size = OperandSize(rawValue: UInt8((word >> 58) & 0x3))!
        let format: Format = (word >> 57) & 1 == 0 ? .registers : .immediate
        if (word >> 56) & 1 != 0 { throw fail("reserved bit 56 is set") }

        func register(_ byte: UInt8, _ operand: OperandSpec) throws(DecodeError) -> RegisterRef {
            let isSlot = byte & 0x8 != 0
            let index = byte & 0x7
            if !isSlot {
                if index != 0 { throw fail("sub-register index \(index) without the sub-register flag") }
                return RegisterRef(byte >> 4)
            }
            if !operand.role.acceptsSubRegister {
                throw fail("the \(operand.name) operand must be a whole register")
            }
            if Int(index) >= size.slotCount {
                throw fail("sub-register index \(index) does not exist at size \(size.suffix)")
            }
            return RegisterRef(byte >> 4, slot: index)
        }

        var registers: [RegisterRef] = []
        var immediate: UInt32 = 0
        switch format {
        case .registers:
            guard let operands = spec.registerForm else {
                throw fail("\(spec.mnemonic) has no register format")
            }
            for index in 0..<4 {
                let byte = UInt8(truncatingIfNeeded: word >> UInt64(48 - 8 * index))
                if index < operands.count {
                    registers.append(try register(byte, operands[index]))
                } else if byte != 0 {
                    throw fail("unused operand byte \(index) is not zero")
                }
            }
            if word & 0xff_ffff != 0 { throw fail("reserved bits 23..0 are not zero") }
        case .immediate:
            guard let form = spec.immediateForm else {
                throw fail("\(spec.mnemonic) has no immediate format")
            }
            let byte = UInt8(truncatingIfNeeded: word >> 48)
            if let operand = form.register {
                registers.append(try register(byte, operand))
            } else if byte != 0 {
                throw fail("unused register byte is not zero")
            }
            if (word >> 32) & 0xffff != 0 { throw fail("reserved bits 47..32 are not zero") }
            immediate = UInt32(truncatingIfNeeded: word)
            let fieldBits = form.immediate == .address ? 32 : size.immediateBits
            if fieldBits < 32 && immediate >> UInt32(fieldBits) != 0 {
                throw fail("immediate bits above the \(fieldBits)-bit field are set")
            }
        }
        self.init(opcode: opcode, size: size, format: format, registers: registers, immediate: immediate)
    }
}

/// Lower-case hex digits of `value`, zero-padded to at least `digits`.
public func hexDigits(_ value: UInt64, _ digits: Int) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}

func hex(_ value: UInt64, digits: Int) -> String { "0x" + hexDigits(value, digits) }
