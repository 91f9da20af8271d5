// LM32 instructions as GNU objdump writes them (the aliases too), so that a disassembly can
// be compared with the reference tools line by line.

extension LM32Instruction {
    static func reg(_ number: UInt8) -> String { LM32.registerNames[Int(number)] }

    static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

    /// The instruction's text at `address` (branch targets are printed as addresses).
    public func text(address: UInt32 = 0) -> String {
        let name = spec.mnemonic
        let rY = Self.reg(r0), rZ = Self.reg(r1), rX2 = Self.reg(r2), rX1 = Self.reg(r1)
        let signed = Int32(Int16(bitPattern: imm16))
        switch spec.format {
        case .immediate(let kind):
            // Aliases objdump prefers.
            if operation == .addi && word == 0x3400_0000 { return "nop" }
            if operation == .addi && r0 == 0 { return "mvi \(rX1),\(signed)" }
            if operation == .ori && r0 == 0 { return "mvu \(rX1),\(Self.hex(UInt32(imm16)))" }
            if operation == .orhi && r0 == 0 { return "mvhi \(rX1),\(Self.hex(UInt32(imm16)))" }
            switch kind {
            case .signed: return "\(name) \(rX1),\(rY),\(signed)"
            case .unsigned, .high: return "\(name) \(rX1),\(rY),\(Self.hex(UInt32(imm16)))"
            case .shift: return "\(name) \(rX1),\(rY),\(imm16)"
            }
        case .load:
            // objdump prints gp-based accesses in their gp-relative short form.
            return r0 == 26 ? "\(name) \(rX1),\(signed)" : "\(name) \(rX1),(\(rY)+\(signed))"
        case .store:
            return r0 == 26 ? "\(name) \(signed),\(rZ)" : "\(name) (\(rY)+\(signed)),\(rZ)"
        case .branch:
            return "\(name) \(rY),\(rZ),\(Self.hex(address &+ UInt32(bitPattern: branchOffset)))"
        case .registers:
            if operation == .or && r1 == 0 { return "mv \(rX2),\(rY)" }
            if operation == .xnor && r1 == 0 { return "not \(rX2),\(rY)" }
            return "\(name) \(rX2),\(rY),\(rZ)"
        case .unary:
            return "\(name) \(rX2),\(rY)"
        case .jumpRegister:
            if operation == .b {
                switch r0 {
                case 29: return "ret"
                case 30: return "eret"
                case 31: return "bret"
                default: break
                }
            }
            return "\(name) \(rY)"
        case .jumpImmediate:
            return "\(name) \(Self.hex(address &+ UInt32(bitPattern: branchOffset)))"
        case .readCSR:
            return "rcsr \(rX2),\(LM32.csrNames[r0] ?? "\(r0)")"
        case .writeCSR:
            return "wcsr \(LM32.csrNames[r0] ?? "\(r0)"),\(rZ)"
        case .raise:
            switch imm26 {
            case 7: return "scall"
            case 2: return "break"
            default: return ".word \(Self.hex(word))"
            }
        case .user:
            return "user \(rX2),\(rY),\(rZ),\(Self.hex(word & 0x7ff))"
        case .reserved:
            return ".word \(Self.hex(word))"
        }
    }
}
