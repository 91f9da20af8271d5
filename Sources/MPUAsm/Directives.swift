import AsmKit
import MPUISA

extension Assembly {
    mutating func directive(_ name: String, _ head: Token, _ line: inout LineContext) {
        switch name {
        case ".if", ".ifdef", ".ifndef", ".else", ".endif":
            conditional(name, &line)
        case ".equ", ".set":
            guard let (symbol, token) = expectName(&line, after: name), expectComma(&line, after: "the name"),
                  let expression = expectExpression(&line), expectEnd(&line) else { return }
            let location = line.location(token)
            if name == ".equ" {
                guard declare(symbol, kind: .constant, location: location, line: line) else { return }
                defineConstant(symbol, expression, at: site(line))
            } else {
                guard declare(symbol, kind: .set, location: location, line: line),
                      let value = evaluateNow(expression, line: line) else { return }
                setValues[symbol] = value
            }
        case ".alert":
            guard let (symbol, token) = expectName(&line, after: name), expectComma(&line, after: "the alert name"),
                  let expression = expectExpression(&line) else { return }
            var description: String?
            if line.position < line.tokens.count {
                guard expectComma(&line, after: "the alert value"), let (text, _) = expectString(&line, after: "','") else { return }
                description = text
            }
            guard expectEnd(&line), declare(symbol, kind: .alert, location: line.location(token), line: line) else { return }
            defineConstant(symbol, expression, at: site(line))
            alerts.append(PendingAlert(name: symbol, description: description, site: site(line)))
        case ".follow", ".operand":
            guard let (alert, token) = expectName(&line, after: name) else { return }
            var automaton: String?
            var depth: Expression?
            if name == ".follow" {
                guard expectComma(&line, after: "the alert name"), let (text, _) = expectString(&line, after: "','") else { return }
                automaton = text
                if line.position < line.tokens.count {
                    guard expectComma(&line, after: "the automaton's name"), let expression = expectExpression(&line) else { return }
                    depth = expression
                }
            }
            guard expectEnd(&line) else { return }
            follows.append(PendingFollow(alert: alert, automaton: automaton, depth: depth, site: site(line), location: line.location(token)))
        case ".followup":
            guard expectEnd(&line) else { return }
            followUpOnly = true
        case ".automaton", ".description":
            guard let (text, _) = expectString(&line, after: name), expectEnd(&line) else { return }
            let location = line.location(head)
            let previous = name == ".automaton" ? automatonName : automatonDescription
            if let previous {
                sink.error("second \(name) (the first is at \(previous.1.file):\(previous.1.line))", at: location, line: line.text)
                return
            }
            if name == ".automaton" { automatonName = (text, location) } else { automatonDescription = (text, location) }
        case ".entry":
            guard let expression = expectExpression(&line), expectEnd(&line) else { return }
            if let previous = entry {
                sink.error("second .entry (the first is at \(previous.1.location.file):\(previous.1.location.line))", at: line.location(head), line: line.text)
                return
            }
            entry = (expression, site(line))
        case ".include":
            guard let (path, token) = expectString(&line, after: name), expectEnd(&line) else { return }
            include(path, token: token, line: line)
        case ".error":
            guard let (text, _) = expectString(&line, after: name), expectEnd(&line) else { return }
            sink.error(text, at: line.location(head), line: line.text)
        default:
            var message = "unknown directive '\(name)'"
            if let suggestion = Spelling.nearest(to: name, in: MPUAssembler.directives) {
                message += "; did you mean '\(suggestion)'?"
            }
            sink.error(message, at: line.location(head), line: line.text)
        }
    }

    mutating func defineConstant(_ name: String, _ expression: Expression, at site: Site) {
        constants[name] = Constant(expression: expression, site: site)
        constantOrder.append(name)
    }

    mutating func include(_ path: String, token: Token, line: LineContext) {
        let location = line.location(token)
        guard let resolved = options.provider.resolve(include: path, from: line.file, searchPaths: options.includePaths) else {
            let places = ["the directory of \(line.file)"] + options.includePaths.map { "'\($0)'" }
            sink.error("cannot find included file '\(path)' (looked in \(places.joined(separator: ", ")))", at: location, line: line.text)
            return
        }
        let identity = options.provider.identity(resolved)
        if let start = includeStack.firstIndex(where: { $0.identity == identity }) {
            let chain = includeStack[start...].map(\.path) + [resolved]
            sink.error("include cycle: \(chain.joined(separator: " -> "))", at: location, line: line.text)
            return
        }
        guard includeStack.count < 64 else {
            sink.error("includes nested more than 64 deep", at: location, line: line.text)
            return
        }
        guard let file = load(path: resolved, includedFrom: (location, line.text)) else { return }
        process(file: file, identity: identity)
    }

    mutating func conditional(_ name: String, _ line: inout LineContext) {
        let head = line.tokens[line.position - 1]
        let location = line.location(head)
        switch name {
        case ".if", ".ifdef", ".ifndef":
            guard isActive else {
                conditionals.append(Conditional(active: false, parentActive: false, anyTaken: true, seenElse: false, location: location, sourceLine: line.text))
                return
            }
            var condition = false
            if name == ".if" {
                if let expression = expectExpression(&line), expectEnd(&line), let value = evaluateNow(expression, line: line) {
                    condition = value != 0
                }
            } else if let (symbol, _) = expectName(&line, after: name), expectEnd(&line) {
                condition = (definitions[symbol] != nil) == (name == ".ifdef")
            }
            conditionals.append(Conditional(active: condition, parentActive: true, anyTaken: condition, seenElse: false, location: location, sourceLine: line.text))
        case ".else":
            guard expectEnd(&line) else { return }
            guard var top = conditionals.popLast() else {
                sink.error("'.else' without '.if'", at: location, line: line.text)
                return
            }
            if top.seenElse {
                sink.error("second '.else' for the '.if' at line \(top.location.line)", at: location, line: line.text)
            }
            top.active = top.parentActive && !top.anyTaken
            top.anyTaken = true
            top.seenElse = true
            conditionals.append(top)
        default: // .endif
            guard expectEnd(&line) else { return }
            if conditionals.popLast() == nil {
                sink.error("'.endif' without '.if'", at: location, line: line.text)
            }
        }
    }

    // MARK: Operand helpers (each reports its own error and returns nil / false)

    mutating func expectName(_ line: inout LineContext, after what: String) -> (String, Token)? {
        guard line.position < line.tokens.count else {
            sink.error("expected a symbol name after \(what)", at: line.location(column: line.endColumn), line: line.text)
            return nil
        }
        let token = line.tokens[line.position]
        guard let name = token.identifier, !name.hasPrefix(".") else {
            sink.error("expected a symbol name after \(what), found \(line.describe(token))", at: line.location(token), line: line.text)
            return nil
        }
        if RegisterName(name) != nil {
            sink.error("'\(name)' is a register name and cannot name a symbol", at: line.location(token), line: line.text)
            return nil
        }
        line.position += 1
        return (name, token)
    }

    mutating func expectComma(_ line: inout LineContext, after what: String) -> Bool {
        guard line.position < line.tokens.count, line.tokens[line.position].isPunctuation(",") else {
            let found = line.position < line.tokens.count ? line.describe(line.tokens[line.position]) : "end of line"
            let column = line.position < line.tokens.count ? line.tokens[line.position].column : line.endColumn
            sink.error("expected ',' after \(what), found \(found)", at: line.location(column: column), line: line.text)
            return false
        }
        line.position += 1
        return true
    }

    mutating func expectString(_ line: inout LineContext, after what: String) -> (String, Token)? {
        guard line.position < line.tokens.count, case .string(let text) = line.tokens[line.position].kind else {
            let found = line.position < line.tokens.count ? line.describe(line.tokens[line.position]) : "end of line"
            let column = line.position < line.tokens.count ? line.tokens[line.position].column : line.endColumn
            sink.error("expected a quoted string after \(what), found \(found)", at: line.location(column: column), line: line.text)
            return nil
        }
        line.position += 1
        return (text, line.tokens[line.position - 1])
    }

    /// Parses an expression up to the next top-level comma or the end of the line.
    mutating func expectExpression(_ line: inout LineContext) -> Expression? {
        var end = line.position
        while end < line.tokens.count, !line.tokens[end].isPunctuation(",") { end += 1 }
        let slice = Array(line.tokens[line.position..<end])
        var parser = ExpressionParser(tokens: slice, endColumn: slice.last.map { $0.column + $0.length } ?? line.endColumn)
        do throws(ExpressionError) {
            let expression = try parser.parse()
            if parser.position < slice.count {
                let extra = slice[parser.position]
                throw ExpressionError(column: extra.column, length: extra.length, message: "unexpected \(line.describe(extra)) in expression")
            }
            line.position = end
            return expression
        } catch {
            sink.error(error.message, at: line.location(column: error.column, length: error.length), line: line.text)
            return nil
        }
    }

    mutating func expectEnd(_ line: inout LineContext) -> Bool {
        guard line.position < line.tokens.count else { return true }
        let token = line.tokens[line.position]
        sink.error("unexpected \(line.describe(token)) at end of statement", at: line.location(token), line: line.text)
        return false
    }
}
