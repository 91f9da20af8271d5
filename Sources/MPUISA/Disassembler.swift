// Text form of instructions and whole images. The output is assembler source: assembling
// it gives back the same bytes.

extension Instruction {
    /// `loadw r2, $0x1000`. `labelFor` names program addresses used as jump targets (only
    /// those: an `mload`'s page offset is an address in the page, not in the program).
    public func text(labelFor: (UInt64) -> String? = { _ in nil }) -> String {
        let name = spec.mnemonic(for: format) + String(size.suffix)
        var operands = registers.map(\.description)
        if format == .immediate, let form = spec.immediateForm {
            let value = immediateValue
            if form.immediate == .address, spec.registerForm?.contains(where: { $0.role == .target }) == true, let label = labelFor(value) {
                operands.append("$" + label)
            } else {
                operands.append("$" + Instruction.literal(value, size: size))
            }
        }
        return operands.isEmpty ? name : name + " " + operands.joined(separator: ", ")
    }

    /// Small values in decimal, others in hex; q immediates that are negative as 32-bit
    /// numbers print signed, so that they assemble back to the same field.
    static func literal(_ value: UInt64, size: OperandSize) -> String {
        if size == .q, Int64(bitPattern: value) < 0 {
            let magnitude = UInt64(bitPattern: -Int64(bitPattern: value))
            return magnitude < 10 ? "-\(magnitude)" : "-0x" + String(magnitude, radix: 16)
        }
        return value < 10 ? "\(value)" : "0x" + String(value, radix: 16)
    }
}

public enum Disassembler {
    /// One decoded program word, or the reason it does not decode.
    public struct Line: Sendable {
        public var address: Int
        public var word: UInt64
        public var instruction: Result<Instruction, DecodeError>
    }

    public static func decode(code: [UInt8]) -> [Line] {
        stride(from: 0, to: code.count - code.count % InstructionSet.instructionBytes, by: InstructionSet.instructionBytes).map { address in
            let word = Instruction.word(from: code[address..<address + InstructionSet.instructionBytes])
            let decoded: Result<Instruction, DecodeError>
            do throws(DecodeError) { decoded = .success(try Instruction(decoding: word)) } catch { decoded = .failure(error) }
            return Line(address: address, word: word, instruction: decoded)
        }
    }

    /// Assembler source for a whole image: metadata directives, constants, labels and code.
    /// Fails on the first word that does not decode.
    public static func source(of image: MPUImage, origin: String? = nil) throws(DecodeError) -> String {
        var out: [String] = []
        if let origin { out.append("// disassembled from \(origin) by mpuas -d") }
        let meta = image.metadata
        if let name = meta.name { out.append(".automaton \(quoted(name))") }
        if let description = meta.description { out.append(".description \(quoted(description))") }
        var alertNames = Set<String>()
        for alert in meta.alerts {
            alertNames.insert(alert.name)
            let value = "0x" + String(alert.value, radix: 16)
            let suffix = alert.description.map { ", " + quoted($0) } ?? ""
            out.append(".alert \(alert.name), \(value)\(suffix)")
        }
        for follow in meta.follows {
            guard let name = meta.alertName(for: follow.value) else { continue }
            out.append(".follow \(name), \(quoted(follow.automaton)), \(follow.depth)")
        }
        for value in meta.operands {
            if let name = meta.alertName(for: value) { out.append(".operand \(name)") }
        }
        if meta.followUpOnly { out.append(".followup") }
        for symbol in image.symbols where symbol.kind == .constant && !alertNames.contains(symbol.name) {
            out.append(".equ \(symbol.name), 0x\(String(symbol.value, radix: 16))")
        }

        var labels: [UInt64: [String]] = [:]
        for symbol in image.symbols where symbol.kind == .label { labels[symbol.value, default: []].append(symbol.name) }
        let lines = decode(code: image.code)
        // Jump targets keep the form the source gave them: a label when the image names one,
        // otherwise the address. (Inventing labels here would add symbols when the output is
        // assembled again, and the round trip would no longer give the same bytes.)
        if image.entry != 0 {
            out.append(".entry " + (labels[UInt64(image.entry)]?.first ?? "0x" + String(image.entry, radix: 16)))
        }
        // A label whose name starts with a dot is local: written after another label, the
        // assembler would read it in that label's scope. Such names (a source's local labels
        // defined before its first other label) come first, and references to them after the
        // scope changes are written as numbers.
        var scoped = false
        for line in lines {
            for label in labels[UInt64(line.address)] ?? [] {
                out.append(label + ":")
                if !label.hasPrefix(".") { scoped = true }
            }
            let instruction = try line.instruction.get()
            let text = instruction.text { labels[$0]?.first { !scoped || !$0.hasPrefix(".") } }
            let pad = String(repeating: " ", count: max(1, 28 - text.count))
            out.append("    " + text + pad + "// " + hexDigits(UInt64(line.address), 4))
        }
        // Labels at the end of the code (for example a loop exit placed last).
        for label in labels[UInt64(image.code.count)] ?? [] { out.append(label + ":") }
        return out.joined(separator: "\n") + "\n"
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += "\\x" + hexDigits(UInt64(scalar.value), 2)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
