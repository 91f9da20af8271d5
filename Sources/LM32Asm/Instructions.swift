import AsmKit
import LM32ISA

extension LM32Assembly {
    /// An immediate operand: an expression, or `hi(e)` / `lo(e)` (the 16-bit halves, no range
    /// check), as GNU as for lm32 writes them.
    enum Immediate { case plain(Int64), half(UInt16) }

    /// Encodes one instruction (aliases expanded); nil after reporting an error.
    mutating func encode(_ mnemonic: String, _ operands: [[Token]], site: Site, address: UInt32, endColumn: Int) -> UInt32? {
        func expect(_ count: Int, _ syntax: String) -> Bool {
            guard operands.count == count, operands.allSatisfy({ !$0.isEmpty }) else {
                error("'\(mnemonic)' takes \(count == 0 ? "no operands" : "\(syntax)")", site, column: operands.first?.first?.column ?? endColumn)
                return false
            }
            return true
        }
        switch mnemonic {
        case "nop": return expect(0, "") ? 0x3400_0000 : nil                                   // addi r0, r0, 0
        case "ret", "eret", "bret":
            guard expect(0, "") else { return nil }
            return 0xc000_0000 | UInt32(["ret": 29, "eret": 30, "bret": 31][mnemonic]!) << 21   // b ra / ea / ba
        case "scall": return expect(0, "") ? 0xac00_0007 : nil
        case "break": return expect(0, "") ? 0xac00_0002 : nil
        case "mv", "not":
            guard expect(2, "rX, rY"), let x = register(operands[0], site), let y = register(operands[1], site) else { return nil }
            return LM32Instruction.registers((mnemonic == "mv" ? LM32Operation.or : .xnor).opcode, rX: x, rY: y, rZ: 0).word  // or / xnor with r0
        case "mvi", "mvu", "mvhi":
            guard expect(2, "rX, value"), let x = register(operands[0], site) else { return nil }
            let operation: LM32Operation = mnemonic == "mvi" ? .addi : mnemonic == "mvu" ? .ori : .orhi
            guard case .immediate(let kind) = operation.spec.format else { return nil }
            guard let imm = immediate16(operands[1], kind: kind, site: site, address: address) else { return nil }
            return LM32Instruction.immediate(operation.opcode, rX: x, rY: 0, imm16: imm).word
        default: break
        }
        guard let spec = LM32.operation(named: mnemonic)?.spec else { return nil }
        switch spec.format {
        case .immediate(let kind):
            guard expect(3, "rX, rY, value"), let x = register(operands[0], site), let y = register(operands[1], site),
                  let imm = immediate16(operands[2], kind: kind, site: site, address: address) else { return nil }
            return LM32Instruction.immediate(spec.opcode, rX: x, rY: y, imm16: imm).word
        case .load:
            guard expect(2, "rX, (rY+offset)"), let x = register(operands[0], site),
                  let (y, offset) = memory(operands[1], site: site, address: address) else { return nil }
            return LM32Instruction.immediate(spec.opcode, rX: x, rY: y, imm16: offset).word
        case .store:
            guard expect(2, "(rY+offset), rZ"), let (y, offset) = memory(operands[0], site: site, address: address),
                  let z = register(operands[1], site) else { return nil }
            return LM32Instruction.immediate(spec.opcode, rX: z, rY: y, imm16: offset).word
        case .branch:
            guard expect(3, "rY, rZ, target"), let y = register(operands[0], site), let z = register(operands[1], site),
                  let offset = branchOffset(operands[2], bits: 16, site: site, address: address) else { return nil }
            return LM32Instruction.immediate(spec.opcode, rX: z, rY: y, imm16: UInt16(truncatingIfNeeded: offset)).word
        case .jumpImmediate:
            guard expect(1, "target"), let offset = branchOffset(operands[0], bits: 26, site: site, address: address) else { return nil }
            return UInt32(spec.opcode) << 26 | (UInt32(bitPattern: offset) & 0x3ff_ffff)
        case .registers:
            guard expect(3, "rX, rY, rZ"), let x = register(operands[0], site), let y = register(operands[1], site),
                  let z = register(operands[2], site) else { return nil }
            return LM32Instruction.registers(spec.opcode, rX: x, rY: y, rZ: z).word
        case .unary:
            guard expect(2, "rX, rY"), let x = register(operands[0], site), let y = register(operands[1], site) else { return nil }
            return LM32Instruction.registers(spec.opcode, rX: x, rY: y, rZ: 0).word
        case .jumpRegister:
            guard expect(1, "rY"), let y = register(operands[0], site) else { return nil }
            return UInt32(spec.opcode) << 26 | UInt32(y) << 21
        case .readCSR:
            guard expect(2, "rX, CSR"), let x = register(operands[0], site), let csr = csr(operands[1], site) else { return nil }
            return UInt32(spec.opcode) << 26 | UInt32(csr) << 21 | UInt32(x) << 11
        case .writeCSR:
            guard expect(2, "CSR, rZ"), let csr = csr(operands[0], site), let z = register(operands[1], site) else { return nil }
            return UInt32(spec.opcode) << 26 | UInt32(csr) << 21 | UInt32(z) << 16
        case .user:
            guard expect(4, "rX, rY, rZ, opcode"), let x = register(operands[0], site), let y = register(operands[1], site),
                  let z = register(operands[2], site), let expression = parseExpression(operands[3], site: site, endColumn: endColumn),
                  let code = value(expression, site, at: address) else { return nil }
            guard (0...0x7ff).contains(code) else {
                error("user opcode \(code) does not fit in 11 bits (0 to 0x7ff)", site, column: operands[3][0].column)
                return nil
            }
            return LM32Instruction.registers(spec.opcode, rX: x, rY: y, rZ: z).word | UInt32(code)
        case .raise, .reserved:
            return nil
        }
    }

    mutating func register(_ operand: [Token], _ site: Site) -> UInt8? {
        if operand.count == 1, let name = operand[0].identifier, let number = lm32Register(name) { return number }
        let first = operand[0]
        let last = operand[operand.count - 1]
        error("expected a register (r0-r31, gp, fp, sp, ra, ea, ba)", site, column: first.column, length: last.column + last.length - first.column)
        return nil
    }

    mutating func csr(_ operand: [Token], _ site: Site) -> UInt8? {
        if operand.count == 1, let name = operand[0].identifier, let number = lm32CSR(name) { return number }
        let names = LM32.csrNames.sorted { $0.key < $1.key }.map(\.value).joined(separator: ", ")
        error("expected a control register (\(names))", site, column: operand[0].column, length: operand[0].length)
        return nil
    }

    /// `hi(e)`/`lo(e)` or a plain expression.
    mutating func immediateValue(_ operand: [Token], site: Site, address: UInt32) -> Immediate? {
        if operand.count >= 4, let function = operand[0].identifier?.lowercased(), function == "hi" || function == "lo",
           operand[1].isPunctuation("("), operand[operand.count - 1].isPunctuation(")") {
            let inner = Array(operand[2..<(operand.count - 1)])
            guard let expression = parseExpression(inner, site: site, endColumn: operand[operand.count - 1].column),
                  let v = value(expression, site, at: address) else { return nil }
            let bits = UInt32(truncatingIfNeeded: v)
            return .half(UInt16(truncatingIfNeeded: function == "hi" ? bits >> 16 : bits))
        }
        guard let expression = parseExpression(operand, site: site, endColumn: operand[operand.count - 1].column + 1),
              let v = value(expression, site, at: address) else { return nil }
        return .plain(v)
    }

    mutating func immediate16(_ operand: [Token], kind: ImmediateKind, site: Site, address: UInt32) -> UInt16? {
        guard let immediate = immediateValue(operand, site: site, address: address) else { return nil }
        guard case .plain(let v) = immediate else { if case .half(let h) = immediate { return h }; return nil }
        let range: ClosedRange<Int64>
        let what: String
        switch kind {
        case .signed: range = -32768...32767; what = "a signed 16-bit value"
        case .unsigned, .high: range = 0...65535; what = "an unsigned 16-bit value"
        case .shift: range = 0...31; what = "a shift count"
        }
        guard range.contains(v) else {
            let first = operand[0], last = operand[operand.count - 1]
            let hint = kind == .shift ? "" : "; hi()/lo() take the halves of a 32-bit value"
            error("\(v) is out of range for \(what) (\(range.lowerBound) to \(range.upperBound))\(hint)",
                  site, column: first.column, length: last.column + last.length - first.column)
            return nil
        }
        return UInt16(truncatingIfNeeded: v)
    }

    /// `(rY+offset)`, `(rY-offset)` or `(rY)`.
    mutating func memory(_ operand: [Token], site: Site, address: UInt32) -> (UInt8, UInt16)? {
        guard operand.count >= 3, operand[0].isPunctuation("("), operand[operand.count - 1].isPunctuation(")"),
              let name = operand[1].identifier, let base = lm32Register(name) else {
            error("expected a memory operand (rY+offset)", site, column: operand[0].column, length: operand[operand.count - 1].column + operand[operand.count - 1].length - operand[0].column)
            return nil
        }
        if operand.count == 3 { return (base, 0) }
        guard operand[2].isPunctuation("+") || operand[2].isPunctuation("-"), operand.count > 4 else {
            error("expected '+' or '-' and an offset after the base register", site, column: operand[2].column, length: operand[2].length)
            return nil
        }
        let offsetTokens = Array(operand[3..<(operand.count - 1)])
        guard let immediate = immediateValue(offsetTokens, site: site, address: address) else { return nil }
        switch immediate {
        case .half(let h):
            return (base, operand[2].isPunctuation("-") ? 0 &- h : h)
        case .plain(let raw):
            let v = operand[2].isPunctuation("-") ? -raw : raw
            guard (-32768...32767).contains(v) else {
                error("offset \(v) is out of range (-32768 to 32767)", site, column: offsetTokens[0].column)
                return nil
            }
            return (base, UInt16(truncatingIfNeeded: v))
        }
    }

    /// A branch or bi/calli target as a word offset from the instruction's own address.
    mutating func branchOffset(_ operand: [Token], bits: Int, site: Site, address: UInt32) -> Int32? {
        guard let expression = parseExpression(operand, site: site, endColumn: operand[operand.count - 1].column + 1),
              let target = value(expression, site, at: address) else { return nil }
        let delta = Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: target) &- address))
        let limit = Int64(1) << (bits + 1)
        guard delta % 4 == 0 else {
            error("branch target 0x\(String(UInt32(truncatingIfNeeded: target), radix: 16)) is not a multiple of 4", site, column: operand[0].column)
            return nil
        }
        guard delta >= -limit && delta < limit else {
            error("branch target is \(delta) bytes away, beyond the \(bits)-bit word offset (\(-limit) to \(limit - 4))", site, column: operand[0].column)
            return nil
        }
        return Int32(delta / 4)
    }
}
