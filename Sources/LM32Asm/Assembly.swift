import AsmKit
import LM32ISA

/// One assembly run. Pass 1 reads the files (includes, conditionals, labels, directives) and
/// gives every statement its section offset and size; then the sections are placed, and pass 2
/// evaluates operands with every label known and encodes.
struct LM32Assembly {
    typealias SectionName = LM32Program.SectionName
    let options: AssemblerOptions
    let layout: LM32Layout
    let lexer = Lexer(commentPrefixes: ["#"], numericLocalLabels: true)
    /// How many times each numeric local label (`1:`) has been defined so far.
    var numericLabelCounts: [Int64: Int] = [:]
    var sink = DiagnosticSink()
    var listing: [LM32ListingLine] = []

    struct Site {
        var location: SourceLocation
        var line: String
        func at(column: Int, length: Int = 1) -> SourceLocation {
            SourceLocation(file: location.file, line: location.line, column: column, length: length)
        }
    }

    enum Payload {
        case instruction(mnemonic: String, operands: [[Token]], endColumn: Int)
        case data(size: Int, values: [Expression])
        case bytes([UInt8])
        /// `count` copies of one byte (.skip, .fill, alignment padding), written only into
        /// the section's image: a large reservation is never a second copy.
        case fill(count: UInt32, byte: UInt8)
    }

    struct Item {
        var section: SectionName
        var offset: UInt32
        var size: UInt32
        var payload: Payload
        var site: Site
        var listingIndex: Int
    }
    var items: [Item] = []
    var offsets: [SectionName: UInt32] = [.text: 0, .data: 0, .bss: 0]
    var alignments: [SectionName: UInt32] = [.text: 4, .data: 4, .bss: 4]
    var current = SectionName.text
    /// What .text and .data may hold together: 4 x the SoC's RAM (16 MiB); large areas go
    /// in .bss, which costs only its size. Bounds the memory assembling takes.
    static let storedSectionLimit: UInt32 = 64 << 20
    /// Stored bytes in .text and .data so far.
    var storedBytes: UInt32 { offsets[.text]! + offsets[.data]! }

    var labels: [String: (section: SectionName, offset: UInt32, location: SourceLocation)] = [:]
    var addresses: [String: UInt32] = [:]
    struct Constant { var expression: Expression?; var value: Int64?; var site: Site; var resolving = false }
    var constants: [String: Constant] = [:]
    var globals: [String: Site] = [:]
    var bases: [SectionName: UInt32] = [:]
    /// Pass 2's output: the bytes of .text and .data.
    var sectionImages: [SectionName: [UInt8]] = [:]

    struct Conditional { var active: Bool; var parentActive: Bool; var taken: Bool; var seenElse: Bool; var site: Site }
    var conditionals: [Conditional] = []
    var includeStack: [String] = []
    var isActive: Bool { conditionals.last?.active ?? true }

    init(options: AssemblerOptions, layout: LM32Layout) {
        self.options = options
        self.layout = layout
        for definition in options.definitions {
            constants[definition.name] = Constant(value: definition.value,
                                                  site: Site(location: SourceLocation(file: "<command line>", line: 0, column: 0), line: ""))
        }
    }

    // MARK: Pass 1

    mutating func run(mainFile: String) {
        guard let file = load(mainFile, from: nil) else { return }
        process(file, identity: options.provider.identity(mainFile))
        if let open = conditionals.last { error("'.if' has no matching '.endif'", open.site, column: 1) }
        // Pass 2 runs even after pass-1 errors, so that one run reports every error.
        let errorsBefore = sink.errorCount
        place()
        guard sink.errorCount == errorsBefore else { return }
        passTwo()
    }

    mutating func load(_ path: String, from site: (Site, Int)?) -> SourceFile? {
        switch options.provider.read(path) {
        case .failure(let reason):
            if let (site, column) = site { error("cannot read included file '\(path)': \(reason)", site, column: column) }
            else { sink.error("cannot read file: \(reason)", at: SourceLocation(file: path, line: 0, column: 0)) }
            return nil
        case .success(let bytes):
            do throws(Diagnostic) { return try SourceFile(path: path, bytes: bytes) } catch { sink.emit(error); return nil }
        }
    }

    mutating func process(_ file: SourceFile, identity: String) {
        includeStack.append(identity)
        defer { includeStack.removeLast() }
        for (index, text) in file.lines.enumerated() {
            let site = Site(location: SourceLocation(file: file.path, line: index + 1, column: 1), line: text)
            let listingIndex = listing.count
            listing.append(LM32ListingLine(file: file.path, line: index + 1, text: text, address: nil, bytes: []))
            switch lexer.tokenize(text) {
            case .failure(let lexError): if isActive { error(lexError.message, site, column: lexError.column, length: lexError.length) }
            case .success(let tokens): statement(tokens, site: site, listingIndex: listingIndex, endColumn: text.unicodeScalars.count + 1)
            }
        }
    }

    mutating func error(_ message: String, _ site: Site, column: Int, length: Int = 1) {
        sink.error(message, at: site.at(column: column, length: length), line: site.line)
    }

    mutating func statement(_ all: [Token], site: Site, listingIndex: Int, endColumn: Int) {
        var tokens = all[...]
        // Conditionals are seen even in skipped regions.
        if let word = tokens.first?.identifier?.lowercased(), [".if", ".ifdef", ".ifndef", ".else", ".endif"].contains(word) {
            conditional(word, Array(tokens), site: site, endColumn: endColumn)
            return
        }
        guard isActive else { return }
        // Numeric local labels: `N:` defines the next instance of N, `Nb` / `Nf` name the
        // latest / the next one; each instance gets a name no source can spell.
        var rewritten: [Token] = []
        for (index, token) in tokens.enumerated() {
            var token = token
            if case .integer(let number) = token.kind, index + tokens.startIndex + 1 < tokens.endIndex,
               tokens[tokens.startIndex + index + 1].isPunctuation(":"), rewritten.allSatisfy({ $0.identifier != nil || $0.isPunctuation(":") }) {
                token.kind = .identifier("\(number)\u{2}\(numericLabelCounts[number, default: 0])")
                numericLabelCounts[number, default: 0] += 1
            } else if let name = token.identifier, let last = name.last, last == "b" || last == "f", let number = Int64(name.dropLast()) {
                let count = numericLabelCounts[number, default: 0]
                if last == "b" && count == 0 {
                    return error("'\(name)' refers to a '\(number):' label before this line, and there is none", site, column: token.column, length: token.length)
                }
                token.kind = .identifier("\(number)\u{2}\(last == "b" ? count - 1 : count)")
            }
            rewritten.append(token)
        }
        tokens = rewritten[...]
        // Labels: `name:` (several may share a line).
        while tokens.count >= 2, let name = tokens.first?.identifier, tokens[tokens.startIndex + 1].isPunctuation(":") {
            define(label: name, site: site, column: tokens.first!.column)
            tokens = tokens.dropFirst(2)
        }
        guard let first = tokens.first else { return }
        guard let word = first.identifier else { return error("expected a label, an instruction or a directive", site, column: first.column, length: first.length) }
        let rest = Array(tokens.dropFirst())
        // `name = expression` is `.set`.
        if rest.first?.isPunctuation("=") == true {
            defineConstant(word, Array(rest.dropFirst()), site: site, column: first.column, endColumn: endColumn, redefinable: true)
            return
        }
        if word.hasPrefix(".") {
            directive(word.lowercased(), first, rest, site: site, listingIndex: listingIndex, endColumn: endColumn)
            return
        }
        let mnemonic = word.lowercased()
        guard LM32.operation(named: mnemonic) != nil || LM32Assembler.aliases.contains(mnemonic) else {
            let hint = Spelling.nearest(to: mnemonic, in: LM32Assembler.mnemonics).map { " (did you mean '\($0)'?)" } ?? ""
            return error("unknown instruction '\(word)'\(hint)", site, column: first.column, length: first.length)
        }
        guard current != .bss else { return error("instructions cannot go in .bss (it holds only reserved space)", site, column: first.column, length: first.length) }
        emit(4, .instruction(mnemonic: mnemonic, operands: splitOperands(rest), endColumn: endColumn), site: site, listingIndex: listingIndex, alignTo: 4, column: first.column)
    }

    mutating func emit(_ size: UInt32, _ payload: Payload, site: Site, listingIndex: Int, alignTo alignment: UInt32 = 1, column: Int) {
        let offset = offsets[current]!
        if alignment > 1 && offset % alignment != 0 {
            return error("misaligned: this needs a multiple of \(alignment) but .\(current.rawValue.dropFirst()) is at offset \(offset) (add .align \(alignment))", site, column: column)
        }
        let (end, overflow) = offset.addingReportingOverflow(size)
        guard !overflow else { return error("section \(current.rawValue) exceeds 4 GiB", site, column: column) }
        // Stored sections become bytes in memory and in the file; .bss is only a size.
        guard current == .bss || UInt64(storedBytes) + UInt64(size) <= UInt64(Self.storedSectionLimit) else {
            return error("section \(current.rawValue) would take .text and .data past \(Self.storedSectionLimit >> 20) MiB of stored bytes (reserve large areas in .bss)", site, column: column)
        }
        items.append(Item(section: current, offset: offset, size: size, payload: payload, site: site, listingIndex: listingIndex))
        offsets[current] = end
    }

    func splitOperands(_ tokens: [Token]) -> [[Token]] {
        guard !tokens.isEmpty else { return [] }
        var operands: [[Token]] = [[]]
        var depth = 0
        for token in tokens {
            if token.isPunctuation("(") { depth += 1 }
            if token.isPunctuation(")") { depth -= 1 }
            if depth == 0 && token.isPunctuation(",") { operands.append([]) } else { operands[operands.count - 1].append(token) }
        }
        return operands
    }

    mutating func define(label name: String, site: Site, column: Int) {
        if let previous = labels[name] {
            return error("label '\(name)' is already defined at line \(previous.location.line)", site, column: column, length: name.count)
        }
        if constants[name] != nil { return error("'\(name)' is already defined as a constant", site, column: column, length: name.count) }
        if lm32Register(name) != nil { return error("'\(name)' is a register name and cannot be a label", site, column: column, length: name.count) }
        labels[name] = (current, offsets[current]!, site.at(column: column, length: name.count))
    }

    mutating func defineConstant(_ name: String, _ tokens: [Token], site: Site, column: Int, endColumn: Int, redefinable: Bool) {
        if labels[name] != nil { return error("'\(name)' is already defined as a label", site, column: column, length: name.count) }
        if let existing = constants[name], !redefinable, existing.site.location.line != 0 {
            return error("'\(name)' is already defined at line \(existing.site.location.line) (use .set to redefine)", site, column: column, length: name.count)
        }
        guard let expression = parseExpression(tokens, site: site, endColumn: endColumn) else { return }
        // Fold now when only constants are involved, so a later .set does not change earlier uses.
        let value = try? expression.evaluate { lookupEarly($0) }
        constants[name] = Constant(expression: expression, value: value, site: site)
    }

    mutating func parseExpression(_ tokens: [Token], site: Site, endColumn: Int) -> Expression? {
        var parser = ExpressionParser(tokens: tokens, endColumn: tokens.last.map { $0.column + $0.length } ?? endColumn)
        do throws(ExpressionError) {
            let expression = try parser.parse()
            guard parser.position == tokens.count else {
                let token = tokens[parser.position]
                throw ExpressionError(column: token.column, length: token.length, message: "unexpected text after the expression")
            }
            return expression
        } catch {
            sink.error(error.message, at: site.at(column: error.column, length: error.length), line: site.line)
            return nil
        }
    }

    /// Pass-1 values: constants only (labels are not placed yet).
    func lookupEarly(_ name: String) -> SymbolLookup {
        if let constant = constants[name], let value = constant.value { return .value(value) }
        if labels[name] != nil || name == "." { return .unavailable("'\(name)' is an address, not known until every section is placed") }
        return .undefined
    }

    /// A pass-1 number (.space, .align, .if): constants only.
    mutating func earlyValue(_ tokens: [Token], site: Site, endColumn: Int) -> Int64? {
        guard let expression = parseExpression(tokens, site: site, endColumn: endColumn) else { return nil }
        do throws(ExpressionError) {
            return try expression.evaluate { lookupEarly($0) }
        } catch {
            sink.error(error.message, at: site.at(column: error.column, length: error.length), line: site.line)
            return nil
        }
    }

    // MARK: Placement

    mutating func place() {
        func align(_ value: UInt64, _ alignment: UInt32) -> UInt64 { (value + UInt64(max(alignment, 16)) - 1) / UInt64(max(alignment, 16)) * UInt64(max(alignment, 16)) }
        let text = UInt64(layout.textAddress)
        let data = layout.dataAddress.map(UInt64.init) ?? align(text + UInt64(offsets[.text]!), alignments[.data]!)
        let bss = layout.bssAddress.map(UInt64.init) ?? align(data + UInt64(offsets[.data]!), alignments[.bss]!)
        let origin = Site(location: SourceLocation(file: "<layout>", line: 0, column: 0), line: "")
        var ranges: [(SectionName, UInt64, UInt64)] = []
        for (name, base) in [(SectionName.text, text), (.data, data), (.bss, bss)] {
            let end = base + UInt64(offsets[name]!)
            if end > 0x1_0000_0000 { sink.error("\(name.rawValue) at 0x\(String(base, radix: 16)) runs past the 4 GiB address space", at: origin.location) }
            if base % UInt64(alignments[name]!) != 0 {
                sink.error("\(name.rawValue) at 0x\(String(base, radix: 16)) is not aligned to \(alignments[name]!) bytes, as its contents need", at: origin.location)
            }
            for (other, otherBase, otherEnd) in ranges where base < otherEnd && otherBase < end {
                sink.error("\(name.rawValue) (0x\(String(base, radix: 16))-0x\(String(end, radix: 16))) overlaps \(other.rawValue) (0x\(String(otherBase, radix: 16))-0x\(String(otherEnd, radix: 16)))", at: origin.location)
            }
            if end > base { ranges.append((name, base, end)) }
            bases[name] = UInt32(truncatingIfNeeded: base)
        }
        for (name, label) in labels { addresses[name] = bases[label.section]! &+ label.offset }
    }
}
