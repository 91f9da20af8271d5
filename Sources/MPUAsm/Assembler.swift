import AsmKit
import MPUISA

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

/// One line of the listing: where it came from, and the instruction it produced.
public struct ListingLine: Hashable, Sendable {
    public var file: String
    public var line: Int
    public var text: String
    public var address: Int?
    public var bytes: [UInt8]
    /// 0 for the main file, 1 for a file it includes, ...
    public var includeDepth: Int
}

public struct AssemblyResult: Sendable {
    /// The image, or nil when there were errors.
    public var image: MPUImage?
    public var diagnostics: [Diagnostic]
    public var listing: [ListingLine]
    /// Every source file read, main file first.
    public var files: [String]

    public var errorCount: Int { diagnostics.count { $0.severity == .error } }
}

public enum MPUAssembler {
    public static let directives = [".equ", ".set", ".include", ".automaton", ".description", ".alert",
                                    ".entry", ".if", ".ifdef", ".ifndef", ".else", ".endif", ".error"]

    /// Assembles the file at `path` (read through `options.provider`).
    public static func assemble(path: String, options: AssemblerOptions = AssemblerOptions()) -> AssemblyResult {
        var assembly = Assembly(options: options)
        assembly.run(mainFile: path)
        return assembly.result()
    }

    /// Assembles source text; `.include` paths resolve through `options.provider`.
    public static func assemble(source: String, name: String = "<input>", options: AssemblerOptions = AssemblerOptions()) -> AssemblyResult {
        var files = [String: String]()
        files[name] = source
        var options = options
        let fallback = options.provider
        options.provider = SourceProvider(
            read: { $0 == name ? .success(Array(source.utf8)) : fallback.read($0) },
            identity: { $0 == name ? name : fallback.identity($0) },
            exists: { $0 == name || fallback.exists($0) })
        return assemble(path: name, options: options)
    }
}

/// Register syntax: `r0`..`r15`, optionally `_index` for a sub-register.
struct RegisterName {
    var number: Int
    var slot: Int?

    /// Parses `r12` / `R6_1`; nil when the word is not register-shaped at all.
    init?(_ word: String) {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count >= 2, scalars[0] == "r" || scalars[0] == "R" else { return nil }
        var i = 1
        func digits() -> Int? {
            let start = i
            var value = 0
            while i < scalars.count, let d = scalars[i].properties.numericType != nil && scalars[i].isASCII ? Int(scalars[i].value - 48) : nil {
                value = min(value * 10 + d, 1_000_000)
                i += 1
            }
            return i > start ? value : nil
        }
        guard let number = digits() else { return nil }
        self.number = number
        if i == scalars.count { slot = nil; return }
        guard scalars[i] == "_" else { return nil }
        i += 1
        guard let slot = digits(), i == scalars.count else { return nil }
        self.slot = slot
    }
}
