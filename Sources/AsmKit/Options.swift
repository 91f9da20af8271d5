// What every assembler of the package takes: -D definitions, include paths, a file source.

/// A `-D NAME=VALUE` definition.
public struct Definition: Hashable, Sendable {
    public var name: String
    public var value: Int64

    public init(name: String, value: Int64) {
        self.name = name
        self.value = value
    }

    /// Parses `NAME=VALUE` (VALUE is a constant expression) or `NAME` (value 1, as cc -D).
    public init(parsing text: String) throws(Reason) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        guard let first = name.unicodeScalars.first, first == "_" || (first.properties.isAlphabetic && first.isASCII),
              name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil)) }) else {
            throw Reason("-D \(text): '\(name)' is not a symbol name")
        }
        guard parts.count == 2 else {
            self.init(name: name, value: 1)
            return
        }
        let valueText = String(parts[1])
        let tokens: [Token]
        switch Lexer(commentPrefixes: []).tokenize(valueText) {
        case .success(let t): tokens = t
        case .failure(let error): throw Reason("-D \(text): \(error.message)")
        }
        var parser = ExpressionParser(tokens: tokens, endColumn: valueText.unicodeScalars.count + 1)
        do throws(ExpressionError) {
            let expression = try parser.parse()
            guard parser.position == tokens.count else { throw ExpressionError(column: tokens[parser.position].column, length: 1, message: "unexpected text after the value") }
            self.init(name: name, value: try expression.evaluate { _ in .undefined })
        } catch {
            throw Reason("-D \(text): \(error.message)")
        }
    }
}

public struct AssemblerOptions: Sendable {
    public var includePaths: [String]
    public var definitions: [Definition]
    public var provider: SourceProvider

    public init(includePaths: [String] = [], definitions: [Definition] = [], provider: SourceProvider = .fileSystem) {
        self.includePaths = includePaths
        self.definitions = definitions
        self.provider = provider
    }
}
