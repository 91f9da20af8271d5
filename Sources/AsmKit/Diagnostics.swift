// Located messages and their rendering: `file:line:col: error: message`, the source line,
// and a caret under the culprit. The library collects; the command line prints.

/// A span of one source line. Lines and columns count from 1; columns count Unicode
/// scalars, so the caret lines up with what an editor shows.
public struct SourceLocation: Hashable, Sendable {
    public var file: String
    public var line: Int
    public var column: Int
    /// Number of columns to underline (at least 1).
    public var length: Int

    public init(file: String, line: Int, column: Int, length: Int = 1) {
        self.file = file
        self.line = line
        self.column = column
        self.length = max(1, length)
    }
}

public enum Severity: String, Sendable {
    case error, warning, note
}

public struct Diagnostic: Hashable, Sendable, Error {
    public var severity: Severity
    public var location: SourceLocation?
    public var message: String
    /// Text of the located line, kept so the diagnostic renders without the file.
    public var sourceLine: String?

    public init(_ severity: Severity, _ message: String, at location: SourceLocation? = nil, sourceLine: String? = nil) {
        self.severity = severity
        self.message = message
        self.location = location
        self.sourceLine = sourceLine
    }

    /// `file:line:col: error: message` (or `file: error: message` without a line).
    public var headline: String {
        guard let location else { return "\(severity.rawValue): \(message)" }
        if location.line == 0 { return "\(location.file): \(severity.rawValue): \(message)" }
        return "\(location.file):\(location.line):\(location.column): \(severity.rawValue): \(message)"
    }

    /// The headline, then the source line and a caret line when the line is known.
    public func rendered() -> String {
        guard let location, let sourceLine, location.line > 0 else { return headline }
        let scalars = Array(sourceLine.unicodeScalars)
        // Keep tabs so the caret lines up whatever the terminal's tab width.
        var caret = String(String.UnicodeScalarView(scalars.prefix(location.column - 1).map { $0 == "\t" ? "\t" : " " }))
        caret += "^" + String(repeating: "~", count: max(0, min(location.length, max(1, scalars.count - location.column + 1)) - 1))
        return headline + "\n" + sourceLine + "\n" + caret
    }
}

/// Collects diagnostics in the order they are found.
public struct DiagnosticSink: Sendable {
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    public var errorCount: Int { diagnostics.count { $0.severity == .error } }

    public mutating func emit(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    public mutating func error(_ message: String, at location: SourceLocation?, line: String? = nil) {
        diagnostics.append(Diagnostic(.error, message, at: location, sourceLine: line))
    }

    public mutating func warning(_ message: String, at location: SourceLocation?, line: String? = nil) {
        diagnostics.append(Diagnostic(.warning, message, at: location, sourceLine: line))
    }
}

/// Suggestions for misspelt names ("did you mean 'loadw'?").
public enum Spelling {
    /// Levenshtein distance, case-insensitive.
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.lowercased().unicodeScalars), y = Array(b.lowercased().unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = previous
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }

    /// The closest candidate within a distance that grows with the word's length, or nil.
    public static func nearest(to word: String, in candidates: some Sequence<String>) -> String? {
        let length = word.lowercased().unicodeScalars.count
        let limit = max(1, min(3, word.count / 3 + 1))
        var best: (String, Int)?
        for candidate in candidates {
            // The distance is at least the difference in length: a long garbage token (a
            // fuzzer's) is not compared letter by letter with every mnemonic.
            guard abs(candidate.lowercased().unicodeScalars.count - length) <= limit else { continue }
            let d = distance(word, candidate)
            if d <= limit, best == nil || d < best!.1 || (d == best!.1 && candidate < best!.0) { best = (candidate, d) }
        }
        return best?.0
    }
}

/// A plain reason, for results that only need to say why ("No such file or directory").
public struct Reason: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
