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
        var scratch = Scratch()
        return scratch.distance(folded(a), folded(b), limit: Int.max)
    }

    /// The closest candidate within a distance that grows with the word's length, or nil.
    /// Called for every unknown word of a source, so it allocates nothing per candidate
    /// (a fuzzer's garbage lines made the hint most of the assemblers' time).
    public static func nearest(to word: String, in candidates: some Sequence<String>) -> String? {
        let x = folded(word)
        let limit = max(1, min(3, word.count / 3 + 1))
        var scratch = Scratch()
        var best: (String, Int)?
        for candidate in candidates {
            scratch.fold(candidate)
            // The distance is at least the difference in length: a long garbage token is
            // not compared letter by letter with every mnemonic.
            guard abs(scratch.word.count - x.count) <= limit else { continue }
            let d = scratch.distance(x, scratch.word, limit: limit)
            if d <= limit, best == nil || d < best!.1 || (d == best!.1 && candidate < best!.0) { best = (candidate, d) }
        }
        return best?.0
    }

    static func folded(_ text: String) -> [Unicode.Scalar] {
        var scratch = Scratch()
        scratch.fold(text)
        return scratch.word
    }

    /// Buffers reused from one candidate to the next.
    struct Scratch {
        var word: [Unicode.Scalar] = []
        var previous: [Int] = []
        var current: [Int] = []

        /// `text` lowercased, as scalars; ASCII without building a lowercased String.
        mutating func fold(_ text: String) {
            word.removeAll(keepingCapacity: true)
            var ascii = true
            for byte in text.utf8 {
                guard byte < 0x80 else { ascii = false; break }
                word.append(Unicode.Scalar(byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte))
            }
            if !ascii {
                word.removeAll(keepingCapacity: true)
                word.append(contentsOf: text.lowercased().unicodeScalars)
            }
        }

        /// The distance, or a value over `limit` as soon as every cell of a row is over it.
        mutating func distance(_ x: [Unicode.Scalar], _ y: [Unicode.Scalar], limit: Int) -> Int {
            if x.isEmpty { return y.count }
            if y.isEmpty { return x.count }
            previous.removeAll(keepingCapacity: true)
            previous.append(contentsOf: 0...y.count)
            current.removeAll(keepingCapacity: true)
            current.append(contentsOf: repeatElement(0, count: y.count + 1))
            for i in 1...x.count {
                current[0] = i
                var smallest = i
                for j in 1...y.count {
                    let cell = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
                    current[j] = cell
                    smallest = Swift.min(smallest, cell)
                }
                if smallest > limit { return smallest }
                swap(&previous, &current)
            }
            return previous[y.count]
        }
    }
}

/// A plain reason, for results that only need to say why ("No such file or directory").
public struct Reason: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
