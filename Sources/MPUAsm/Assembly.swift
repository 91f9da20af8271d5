import AsmKit
import MPUISA

/// State of one assembly run. Pass 1 reads the files in order (includes, conditionals,
/// labels, directives) and places every instruction; since every instruction is 8 bytes,
/// all label addresses are known at its end. Pass 2 evaluates operands and encodes.
struct Assembly {
    let options: AssemblerOptions
    let lexer = Lexer(commentPrefixes: ["//"])
    var sink = DiagnosticSink()
    var listing: [ListingLine] = []
    var files: [String] = []

    // Symbols. Every name has exactly one kind; `.set` names may be set again.
    enum SymbolKind: String { case label, constant = "constant", set = ".set symbol", alert, commandLine = "-D definition" }
    struct SymbolDefinition {
        var kind: SymbolKind
        var location: SourceLocation?
    }
    var definitions: [String: SymbolDefinition] = [:]
    var labels: [String: Int] = [:]
    /// Lazily evaluated `.equ` and `.alert` values.
    struct Constant {
        var expression: Expression?
        var value: Int64?
        var site: Site
        var state: State = .unresolved
        enum State { case unresolved, resolving, resolved, failed }
    }
    var constants: [String: Constant] = [:]
    /// Constants in definition order, so their errors come out in a stable order.
    var constantOrder: [String] = []
    var setValues: [String: Int64] = [:]

    /// Where an expression is evaluated: the line (for messages), the address `.` stands
    /// for, the scope of local labels, and the `.set` values in force there.
    struct Site {
        var location: SourceLocation
        var sourceLine: String
        var address: Int
        var scope: String
        var sets: [String: Int64]
    }

    struct PendingInstruction {
        var site: Site
        var spec: InstructionSpec
        var size: OperandSize
        var format: Format
        var registers: [RegisterRef]
        var immediate: Expression?
        var immediateColumn: Int
        var listingIndex: Int
    }
    var instructions: [PendingInstruction] = []
    var pc = 0
    var scope = ""

    // Metadata directives.
    var automatonName: (String, SourceLocation)?
    var automatonDescription: (String, SourceLocation)?
    struct PendingAlert { var name: String; var description: String?; var site: Site }
    var alerts: [PendingAlert] = []
    /// `.follow NAME, "automaton"[, depth]` and `.operand NAME`, resolved once alerts are.
    struct PendingFollow { var alert: String; var automaton: String?; var depth: Expression?; var site: Site; var location: SourceLocation }
    var follows: [PendingFollow] = []
    var followUpOnly = false
    var entry: (Expression, Site)?

    // Pass 2 output.
    var code: [UInt8] = []
    var entryAddress: UInt32 = 0
    var metadataAlerts: [MPUAlert] = []
    var metadataFollows: [MPUFollow] = []
    var metadataOperands: [UInt64] = []

    // Conditionals and includes.
    struct Conditional {
        var active: Bool
        var parentActive: Bool
        var anyTaken: Bool
        var seenElse: Bool
        var location: SourceLocation
        var sourceLine: String
    }
    var conditionals: [Conditional] = []
    var includeStack: [(identity: String, path: String)] = []
    var programFull = false

    var isActive: Bool { conditionals.last?.active ?? true }

    init(options: AssemblerOptions) {
        self.options = options
        for definition in options.definitions {
            definitions[definition.name] = SymbolDefinition(kind: .commandLine, location: nil)
            constants[definition.name] = Constant(
                value: definition.value,
                site: Site(location: SourceLocation(file: "<command line>", line: 0, column: 0), sourceLine: "", address: 0, scope: "", sets: [:]),
                state: .resolved)
        }
    }

    // MARK: Pass 1

    mutating func run(mainFile: String) {
        guard let file = load(path: mainFile, includedFrom: nil) else { return }
        process(file: file, identity: options.provider.identity(mainFile))
        if let open = conditionals.last {
            sink.error("'.if' has no matching '.endif'", at: open.location, line: open.sourceLine)
        }
        passTwo()
    }

    /// Reads and decodes a file, reporting failures at the including line (or the file).
    mutating func load(path: String, includedFrom site: (SourceLocation, String)?) -> SourceFile? {
        switch options.provider.read(path) {
        case .failure(let reason):
            if let (location, line) = site {
                sink.error("cannot read included file '\(path)': \(reason)", at: location, line: line)
            } else {
                sink.error("cannot read file: \(reason)", at: SourceLocation(file: path, line: 0, column: 0))
            }
            return nil
        case .success(let bytes):
            do throws(Diagnostic) {
                let file = try SourceFile(path: path, bytes: bytes)
                files.append(path)
                return file
            } catch {
                sink.emit(error)
                return nil
            }
        }
    }

    mutating func process(file: SourceFile, identity: String) {
        includeStack.append((identity, file.path))
        defer { includeStack.removeLast() }
        let depthAtStart = conditionals.count
        for (index, text) in file.lines.enumerated() {
            processLine(text, file: file.path, number: index + 1)
        }
        // A file's .if blocks close in that file.
        while conditionals.count > depthAtStart {
            let open = conditionals.removeLast()
            sink.error("'.if' has no matching '.endif' before the end of \(file.path)", at: open.location, line: open.sourceLine)
        }
    }

    mutating func processLine(_ text: String, file: String, number: Int) {
        let listingIndex = listing.count
        listing.append(ListingLine(file: file, line: number, text: text, address: nil, bytes: [], includeDepth: includeStack.count - 1))
        let tokens: [Token]
        switch lexer.tokenize(text) {
        case .success(let t): tokens = t
        case .failure(let error):
            if isActive { sink.error(error.message, at: SourceLocation(file: file, line: number, column: error.column, length: error.length), line: text) }
            return
        }
        var line = LineContext(file: file, number: number, text: text, tokens: tokens)
        if !isActive {
            if let first = tokens.first?.identifier, [".if", ".ifdef", ".ifndef", ".else", ".endif"].contains(first.lowercased()) {
                line.position = 1
                conditional(first.lowercased(), &line)
            }
            return
        }
        // Labels: `name:` (any number of them) at the start of the line.
        while line.position + 1 < tokens.count, let name = tokens[line.position].identifier, tokens[line.position + 1].isPunctuation(":") {
            defineLabel(name, token: tokens[line.position], line: line)
            line.position += 2
        }
        guard line.position < tokens.count else { return }
        let head = tokens[line.position]
        guard let word = head.identifier else {
            sink.error("expected an instruction, a directive or a label, found \(line.describe(head))", at: line.location(head), line: text)
            return
        }
        line.position += 1
        if word.hasPrefix(".") {
            directive(word.lowercased(), head, &line)
        } else {
            instruction(word, head, &line, listingIndex: listingIndex)
        }
    }

    var site: (LineContext) -> Site {
        { [pc, scope, setValues] line in
            Site(location: SourceLocation(file: line.file, line: line.number, column: 1), sourceLine: line.text, address: pc, scope: scope, sets: setValues)
        }
    }

    mutating func defineLabel(_ name: String, token: Token, line: LineContext) {
        let location = line.location(token)
        if RegisterName(name) != nil {
            sink.error("'\(name)' is a register name and cannot be a label", at: location, line: line.text)
            return
        }
        let full: String
        if name.hasPrefix(".") {
            full = scope + name
        } else {
            full = name
            scope = name
        }
        guard declare(full, kind: .label, location: location, line: line) else { return }
        labels[full] = pc
    }

    /// Records a new name; reports a duplicate and returns false if it exists.
    mutating func declare(_ name: String, kind: SymbolKind, location: SourceLocation, line: LineContext) -> Bool {
        if let existing = definitions[name] {
            if kind == .set && existing.kind == .set { return true }
            let previous = existing.location.map { $0.line == 0 ? "on the command line" : "at \($0.file):\($0.line):\($0.column)" } ?? "on the command line (-D)"
            sink.error("duplicate definition of '\(name)' (already defined as a \(existing.kind.rawValue) \(previous))", at: location, line: line.text)
            return false
        }
        definitions[name] = SymbolDefinition(kind: kind, location: location)
        return true
    }

    // MARK: Instructions

    enum ParsedOperand {
        case register(RegisterName, Token)
        case immediate(Expression, column: Int)
    }

    mutating func instruction(_ word: String, _ head: Token, _ line: inout LineContext, listingIndex: Int) {
        let address = pc
        let here = site(line)
        if pc >= InstructionSet.programMemoryBytes {
            if !programFull {
                sink.error("program exceeds the MPU's \(InstructionSet.programMemoryBytes)-byte program memory (\(InstructionSet.programMemoryBytes / 8) instructions)", at: line.location(head), line: line.text)
                programFull = true
            }
            return
        }
        pc += InstructionSet.instructionBytes
        guard let (name, size, _) = InstructionSet.parseMnemonic(word) else {
            var message = "unknown instruction '\(word)'"
            if let suggestion = Spelling.nearest(to: word, in: InstructionSet.allSpellings) {
                message += "; did you mean '\(suggestion)'?"
            }
            sink.error(message, at: line.location(head), line: line.text)
            return
        }
        let (spec, impliedFormat) = InstructionSet.mnemonics[name]!
        let written = word.lowercased()

        // Operands, split at top-level commas.
        var operands: [ParsedOperand] = []
        var operandTokens: [Token] = []
        if line.position < line.tokens.count {
            while true {
                let start = line.position
                while line.position < line.tokens.count, !line.tokens[line.position].isPunctuation(",") { line.position += 1 }
                let slice = Array(line.tokens[start..<line.position])
                guard let first = slice.first else {
                    let column = line.position < line.tokens.count ? line.tokens[line.position].column : line.endColumn
                    sink.error("expected an operand", at: line.location(column: column), line: line.text)
                    return
                }
                operandTokens.append(first)
                guard let operand = parseOperand(slice, line: line) else { return }
                operands.append(operand)
                if line.position == line.tokens.count { break }
                line.position += 1 // the comma
            }
        }

        let immediateIndices = operands.indices.filter { if case .immediate = operands[$0] { true } else { false } }
        let format: Format
        if immediateIndices.isEmpty, let form = spec.registerForm, operands.count == form.count, impliedFormat != .immediate {
            format = .registers
        } else if immediateIndices == [operands.count - 1], let form = spec.immediateForm, impliedFormat != .registers,
                  operands.count == (form.register == nil ? 1 : 2) {
            format = .immediate
        } else {
            let forms = usage(spec: spec, size: size, written: written, impliedFormat: impliedFormat)
            let expectedCounts = [spec.registerForm?.count, spec.immediateForm.map { $0.register == nil ? 1 : 2 }].compactMap { $0 }
            var location = line.location(head)
            if operands.count > (expectedCounts.max() ?? 0) {
                location = line.location(operandTokens[expectedCounts.max() ?? 0])
            } else if !expectedCounts.contains(operands.count) {
                location = line.location(column: line.endColumn)
            } else if let bad = immediateIndices.first(where: { _ in true }) {
                location = line.location(operandTokens[bad])
            }
            var kind = operands.isEmpty ? "no operands" : "\(operands.count) operand\(operands.count == 1 ? "" : "s")"
            // The right count with an immediate where a register goes: say which, and for a
            // jump target how to get its address into a register.
            if let form = spec.registerForm, operands.count == form.count, let bad = immediateIndices.first {
                let role = form[bad].name
                kind = "an immediate as operand \(bad + 1) (\(role)), which must be a register"
                    + (role.contains("target") ? "; load the address first (loadw rN, $label)" : "")
            }
            let registerOnly = impliedFormat == .registers && !immediateIndices.isEmpty
                ? " ('\(written)' copies a register; use load\(size.suffix) to load an immediate)" : ""
            sink.error("wrong operands for '\(written)': expected \(forms); found \(kind)\(registerOnly)", at: location, line: line.text)
            return
        }

        let roles: [OperandSpec] = format == .registers ? spec.registerForm! : (spec.immediateForm!.register.map { [$0] } ?? [])
        var registers: [RegisterRef] = []
        var valid = true
        for (index, operandSpec) in roles.enumerated() {
            guard case .register(let register, let token) = operands[index] else {
                sink.error("the \(operandSpec.name) operand of '\(written)' must be a register", at: line.location(operandTokens[index]), line: line.text)
                valid = false
                continue
            }
            if let reference = checkRegister(register, token: token, role: operandSpec, size: size, mnemonic: written, line: line) {
                registers.append(reference)
            } else {
                valid = false
            }
        }
        guard valid else { return }
        var immediate: Expression?
        var immediateColumn = 0
        if format == .immediate, case .immediate(let expression, let column) = operands.last! {
            immediate = expression
            immediateColumn = column
        }
        instructions.append(PendingInstruction(
            site: Site(location: here.location, sourceLine: line.text, address: address, scope: here.scope, sets: here.sets),
            spec: spec, size: size, format: format, registers: registers, immediate: immediate,
            immediateColumn: immediateColumn, listingIndex: listingIndex))
    }

    func usage(spec: InstructionSpec, size: OperandSize, written: String, impliedFormat: Format?) -> String {
        var forms: [String] = []
        if let operands = spec.registerForm, impliedFormat != .immediate {
            forms.append("'\(spec.mnemonic(for: .registers))\(size.suffix) " + operands.map(\.name).joined(separator: ", ") + "'")
        }
        if let form = spec.immediateForm, impliedFormat != .registers {
            forms.append("'\(spec.mnemonic)\(size.suffix) " + ((form.register.map { [$0.name] } ?? []) + ["$" + form.immediateName]).joined(separator: ", ") + "'")
        }
        return forms.joined(separator: " or ")
    }

    mutating func parseOperand(_ slice: [Token], line: LineContext) -> ParsedOperand? {
        let first = slice[0]
        if slice.count == 1, let word = first.identifier, let register = RegisterName(word) {
            return .register(register, first)
        }
        let dollar = first.isPunctuation("$")
        let expressionTokens = dollar ? Array(slice.dropFirst()) : slice
        let endColumn = slice.last.map { $0.column + $0.length } ?? line.endColumn
        var parser = ExpressionParser(tokens: expressionTokens, endColumn: endColumn)
        do throws(ExpressionError) {
            let expression = try parser.parse()
            if parser.position < expressionTokens.count {
                let extra = expressionTokens[parser.position]
                throw ExpressionError(column: extra.column, length: extra.length, message: "unexpected \(line.describe(extra)) in operand (missing ','?)")
            }
            guard dollar else {
                if case .symbol(let name, _, _) = expression, slice.count == 1 {
                    sink.error("expected a register (r0-r15) or an immediate ($...), found '\(name)'; write '$\(name)' for its value",
                               at: line.location(first), line: line.text)
                } else {
                    sink.error("immediate operands are written with '$' (as in $0x1000)", at: line.location(first), line: line.text)
                }
                return nil
            }
            return .immediate(expression, column: first.column)
        } catch {
            sink.error(error.message, at: line.location(column: error.column, length: error.length), line: line.text)
            return nil
        }
    }

    mutating func checkRegister(_ register: RegisterName, token: Token, role: OperandSpec, size: OperandSize, mnemonic: String, line: LineContext) -> RegisterRef? {
        let location = line.location(token)
        let word = token.identifier ?? ""
        guard register.number < InstructionSet.registerCount else {
            sink.error("register 'r\(register.number)' does not exist (the MPU has r0-r\(InstructionSet.registerCount - 1))", at: location, line: line.text)
            return nil
        }
        if let slot = register.slot {
            guard role.role.acceptsSubRegister else {
                sink.error("the \(role.name) operand of '\(mnemonic)' must be a whole register (r\(register.number)), not a sub-register", at: location, line: line.text)
                return nil
            }
            guard slot < size.slotCount else {
                let range = size.slotCount == 1 ? "only r\(register.number)_0" : "r\(register.number)_0..r\(register.number)_\(size.slotCount - 1)"
                sink.error("sub-register '\(word)' does not fit size \(size.suffix): a 64-bit register holds \(size.slotCount) \(size.bits)-bit sub-register\(size.slotCount == 1 ? "" : "s") (\(range))", at: location, line: line.text)
                return nil
            }
        }
        if role.role.writes && register.number == 0 {
            sink.warning("r0 always reads as zero; writing it has no effect", at: location, line: line.text)
        }
        return RegisterRef(UInt8(register.number), slot: register.slot.map { UInt8($0) })
    }
}

/// One source line being parsed, with a cursor over its tokens.
struct LineContext {
    var file: String
    var number: Int
    var text: String
    var tokens: [Token]
    var position = 0

    var endColumn: Int {
        tokens.last.map { $0.column + $0.length } ?? text.unicodeScalars.count + 1
    }

    func location(_ token: Token) -> SourceLocation {
        SourceLocation(file: file, line: number, column: token.column, length: token.length)
    }

    func location(column: Int, length: Int = 1) -> SourceLocation {
        SourceLocation(file: file, line: number, column: column, length: length)
    }

    func describe(_ token: Token) -> String {
        switch token.kind {
        case .identifier(let name): return "'\(name)'"
        case .integer: return "a number"
        case .string: return "a string"
        case .punctuation(let p): return "'\(p)'"
        }
    }
}
