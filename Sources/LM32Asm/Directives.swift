import AsmKit

extension LM32Assembly {
    mutating func directive(_ name: String, _ word: Token, _ rest: [Token], site: Site, listingIndex: Int, endColumn: Int) {
        let operands = splitOperands(rest)
        func noOperands() -> Bool {
            guard let extra = rest.first else { return true }
            error("\(name) takes no operands", site, column: extra.column, length: extra.length)
            return false
        }
        switch name {
        case ".text": if noOperands() { current = .text }
        case ".data": if noOperands() { current = .data }
        case ".bss": if noOperands() { current = .bss }
        case ".section":
            guard let section = rest.first?.identifier else { return error(".section needs a name (.text, .data, .bss, .rodata...)", site, column: rest.first?.column ?? endColumn) }
            // One memory image: read-only and small data live with .data, small bss with .bss.
            if section.hasPrefix(".text") { current = .text }
            else if section.hasPrefix(".data") || section.hasPrefix(".rodata") || section.hasPrefix(".sdata") { current = .data }
            else if section.hasPrefix(".bss") || section.hasPrefix(".sbss") { current = .bss }
            else { error("unknown section '\(section)' (expected .text*, .data*, .rodata*, .sdata*, .bss* or .sbss*)", site, column: rest[0].column, length: rest[0].length) }
        case ".word", ".long", ".int", ".half", ".short", ".hword", ".byte":
            let size = [".byte": 1, ".half": 2, ".short": 2, ".hword": 2].first { $0.key == name }?.value ?? 4
            guard !operands.isEmpty else { return error("\(name) needs at least one value", site, column: endColumn) }
            guard current != .bss else { return error("\(name) cannot store values in .bss (use .space)", site, column: word.column, length: word.length) }
            var values: [Expression] = []
            for operand in operands {
                guard !operand.isEmpty else { return error("expected a value between the commas", site, column: word.column, length: word.length) }
                guard let expression = parseExpression(operand, site: site, endColumn: endColumn) else { return }
                values.append(expression)
            }
            emit(UInt32(size * values.count), .data(size: size, values: values), site: site, listingIndex: listingIndex, column: word.column)
        case ".ascii", ".asciz", ".string":
            guard current != .bss else { return error("\(name) cannot store text in .bss", site, column: word.column, length: word.length) }
            var bytes: [UInt8] = []
            guard !operands.isEmpty else { return error("\(name) needs a string", site, column: endColumn) }
            for operand in operands {
                guard operand.count == 1, case .string(let text) = operand[0].kind else {
                    return error("expected a string in double quotes", site, column: operand.first?.column ?? endColumn, length: operand.first?.length ?? 1)
                }
                bytes += Array(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
                if name != ".ascii" { bytes.append(0) }
            }
            emit(UInt32(bytes.count), .bytes(bytes), site: site, listingIndex: listingIndex, column: word.column)
        case ".align", ".balign", ".p2align":
            guard (1...2).contains(operands.count), let value = earlyValue(operands[0], site: site, endColumn: endColumn) else {
                if operands.count != 1 && operands.count != 2 { error("\(name) needs an alignment (and optionally a fill byte)", site, column: word.column, length: word.length) }
                return
            }
            // GNU as for lm32: .align and .balign count bytes, .p2align a power of two.
            let alignment = name == ".p2align" ? (value >= 0 && value < 32 ? Int64(1) << value : -1) : value
            guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= 1 << 16 else {
                return error("alignment \(value) is not a power of two up to 65536\(name == ".p2align" ? " (after 1 << n)" : "")", site, column: operands[0][0].column)
            }
            let fill = operands.count == 2 ? earlyValue(operands[1], site: site, endColumn: endColumn) : 0
            guard let fill else { return }
            alignments[current] = max(alignments[current]!, UInt32(alignment))
            let offset = offsets[current]!
            let padding = (UInt32(alignment) - offset % UInt32(alignment)) % UInt32(alignment)
            reserve(padding, fill: fill, site: site, listingIndex: listingIndex, column: word.column)
        case ".space", ".skip", ".zero":
            guard (1...2).contains(operands.count), let count = earlyValue(operands[0], site: site, endColumn: endColumn) else {
                if operands.count != 1 && operands.count != 2 { error("\(name) needs a size (and optionally a fill byte)", site, column: word.column, length: word.length) }
                return
            }
            guard count >= 0 && count < 1 << 32 else { return error("\(name) size \(count) is out of range", site, column: operands[0][0].column) }
            let fill = operands.count == 2 ? earlyValue(operands[1], site: site, endColumn: endColumn) : 0
            guard let fill else { return }
            reserve(UInt32(count), fill: fill, site: site, listingIndex: listingIndex, column: word.column)
        case ".global", ".globl":
            guard !operands.isEmpty else { return error("\(name) needs a symbol name", site, column: endColumn) }
            for operand in operands {
                guard operand.count == 1, let symbol = operand[0].identifier else {
                    return error("expected a symbol name", site, column: operand.first?.column ?? endColumn)
                }
                globals[symbol] = Site(location: site.at(column: operand[0].column, length: operand[0].length), line: site.line)
            }
        case ".equ", ".set":
            guard operands.count == 2, operands[0].count == 1, let symbol = operands[0][0].identifier else {
                return error("\(name) needs a name and a value: \(name) NAME, VALUE", site, column: word.column, length: word.length)
            }
            defineConstant(symbol, operands[1], site: site, column: operands[0][0].column, endColumn: endColumn, redefinable: name == ".set")
        case ".include":
            guard rest.count == 1, case .string(let path) = rest[0].kind else {
                return error(".include needs a file name in double quotes", site, column: rest.first?.column ?? endColumn)
            }
            guard let resolved = options.provider.resolve(include: path, from: site.location.file, searchPaths: options.includePaths) else {
                return error("cannot find included file '\(path)' (searched next to \(site.location.file) and -I paths)", site, column: rest[0].column, length: rest[0].length)
            }
            let identity = options.provider.identity(resolved)
            guard !includeStack.contains(identity) else { return error("'\(path)' includes itself", site, column: rest[0].column, length: rest[0].length) }
            if let file = load(resolved, from: (site, rest[0].column)) { process(file, identity: identity) }
        case ".error":
            if rest.count == 1, case .string(let message) = rest[0].kind { error(message, site, column: word.column, length: word.length) }
            else { error(".error needs a message in double quotes", site, column: word.column, length: word.length) }
        case ".type", ".size", ".file", ".ident":
            break       // compiler output: symbol types and sizes, file names; no effect on the image
        default:
            let hint = Spelling.nearest(to: name, in: LM32Assembler.directives).map { " (did you mean '\($0)'?)" } ?? ""
            error("unknown directive '\(word.identifier!)'\(hint)", site, column: word.column, length: word.length)
        }
    }

    /// Padding or reserved space: zeros in .bss (NOBITS), bytes elsewhere.
    mutating func reserve(_ count: UInt32, fill: Int64, site: Site, listingIndex: Int, column: Int) {
        guard count > 0 else { return }
        guard current != .bss || fill == 0 else { return error(".bss holds zeros only: a fill byte is not possible there", site, column: column) }
        guard fill >= -128 && fill <= 255 else { return error("fill byte \(fill) does not fit in a byte", site, column: column) }
        emit(count, .fill(count: current == .bss ? 0 : count, byte: UInt8(truncatingIfNeeded: fill)),
             site: site, listingIndex: listingIndex, column: column)
    }

    mutating func conditional(_ word: String, _ tokens: [Token], site: Site, endColumn: Int) {
        let operands = Array(tokens.dropFirst())
        switch word {
        case ".if", ".ifdef", ".ifndef":
            var condition = false
            if isActive {
                if word == ".if" {
                    condition = (earlyValue(operands, site: site, endColumn: endColumn) ?? 0) != 0
                } else {
                    guard operands.count == 1, let name = operands[0].identifier else {
                        error("\(word) needs one symbol name", site, column: tokens[0].column, length: tokens[0].length)
                        conditionals.append(Conditional(active: false, parentActive: isActive, taken: true, seenElse: false, site: site))
                        return
                    }
                    let defined = constants[name] != nil || labels[name] != nil
                    condition = word == ".ifdef" ? defined : !defined
                }
            }
            conditionals.append(Conditional(active: isActive && condition, parentActive: isActive, taken: condition, seenElse: false, site: site))
        case ".else":
            guard var top = conditionals.popLast() else { return error("'.else' without '.if'", site, column: tokens[0].column, length: 5) }
            if top.seenElse { error("second '.else' for the '.if' at line \(top.site.location.line)", site, column: tokens[0].column, length: 5) }
            top.seenElse = true
            top.active = top.parentActive && !top.taken
            top.taken = true
            conditionals.append(top)
        default:
            if conditionals.popLast() == nil { error("'.endif' without '.if'", site, column: tokens[0].column, length: 6) }
        }
    }
}
