// Line lexer shared by the assemblers. Statements never span lines, so each line is lexed
// on its own and an error on one line does not hide the errors of the next.

public enum TokenKind: Hashable, Sendable {
    /// Names, mnemonics, registers, directives (`.equ`) and local labels (`.loop`).
    case identifier(String)
    /// Numeric and character literals, as a 64-bit two's-complement value.
    case integer(Int64)
    case string(String)
    /// Operators and punctuation: `, : $ ( ) + - * / % << >> & | ^ ~ ! = == != < <= > >= && ||`.
    case punctuation(String)
}

public struct Token: Hashable, Sendable {
    public var kind: TokenKind
    /// 1-based column of the first character.
    public var column: Int
    /// Length in columns.
    public var length: Int

    public var identifier: String? { if case .identifier(let name) = kind { name } else { nil } }
    public func isPunctuation(_ text: String) -> Bool { kind == .punctuation(text) }
}

public struct LexError: Error, Hashable, Sendable {
    public var column: Int
    public var length: Int
    public var message: String
}

public struct Lexer: Sendable {
    /// Comment starters, e.g. `//` for the MPU and `#` for LM32.
    public var commentPrefixes: [String]
    /// GNU as numeric local label references (`1b`, `2f`: the nearest `1:` backward, `2:`
    /// forward) lex as identifiers instead of malformed numbers.
    public var numericLocalLabels: Bool

    public init(commentPrefixes: [String], numericLocalLabels: Bool = false) {
        self.commentPrefixes = commentPrefixes
        self.numericLocalLabels = numericLocalLabels
    }

    static let twoCharacterOperators: Set<String> = ["<<", ">>", "==", "!=", "<=", ">=", "&&", "||"]
    static let twoCharacterStarts: Set<Unicode.Scalar> = Set(twoCharacterOperators.map { $0.unicodeScalars.first! })
    static let singleCharacterPunctuation: Set<Unicode.Scalar> = [",", ":", "$", "(", ")", "+", "-", "*", "/", "%", "&", "|", "^", "~", "!", "=", "<", ">", "[", "]"]

    public func tokenize(_ line: String) -> Result<[Token], LexError> {
        let s = Array(line.unicodeScalars)
        let prefixes = commentPrefixes.map { Array($0.unicodeScalars) }
        var tokens: [Token] = []
        var i = 0

        // Element by element: this runs at every token, so it must not allocate.
        func startsComment(at index: Int) -> Bool {
            prefixes.contains { p in index + p.count <= s.count && p.indices.allSatisfy { s[index + $0] == p[$0] } }
        }

        /// Identifiers and numbers are ASCII: their text is built byte by byte (the generic
        /// scalar-view conversion was most of the lexer's time).
        func ascii(_ range: Range<Int>) -> String {
            String(unsafeUninitializedCapacity: range.count) { buffer in
                for (k, index) in range.enumerated() { buffer[k] = UInt8(truncatingIfNeeded: s[index].value) }
                return range.count
            }
        }

        while i < s.count {
            let c = s[i]
            if c == " " || c == "\t" || c == "\r" { i += 1; continue }
            if startsComment(at: i) { break }
            let start = i
            if isIdentifierStart(c) {
                while i < s.count && isIdentifierContinue(s[i]) { i += 1 }
                tokens.append(Token(kind: .identifier(ascii(start..<i)), column: start + 1, length: i - start))
            } else if c >= "0" && c <= "9" {
                while i < s.count && (isIdentifierContinue(s[i])) { i += 1 }
                let text = ascii(start..<i)
                if numericLocalLabels, let last = text.last, last == "b" || last == "f", text.count > 1, text.dropLast().allSatisfy(\.isASCIIDigit) {
                    tokens.append(Token(kind: .identifier(text), column: start + 1, length: i - start))
                    continue
                }
                switch Lexer.parseInteger(text) {
                case .success(let value): tokens.append(Token(kind: .integer(value), column: start + 1, length: i - start))
                case .failure(let message): return .failure(LexError(column: start + 1, length: i - start, message: message.description))
                }
            } else if c == "'" {
                i += 1
                guard i < s.count else { return .failure(LexError(column: start + 1, length: 1, message: "unterminated character literal")) }
                let value: UInt32
                if s[i] == "\\" {
                    switch Lexer.escape(s, &i) {
                    case .success(let v): value = v
                    case .failure(let error): return .failure(error)
                    }
                } else if s[i] == "'" {
                    return .failure(LexError(column: start + 1, length: 2, message: "empty character literal"))
                } else {
                    value = s[i].value
                    i += 1
                }
                guard i < s.count, s[i] == "'" else { return .failure(LexError(column: start + 1, length: i - start, message: "unterminated character literal (expected ')")) }
                i += 1
                tokens.append(Token(kind: .integer(Int64(value)), column: start + 1, length: i - start))
            } else if c == "\"" {
                i += 1
                var text = String.UnicodeScalarView()
                while true {
                    guard i < s.count else { return .failure(LexError(column: start + 1, length: i - start, message: "unterminated string (expected \")")) }
                    if s[i] == "\"" { i += 1; break }
                    if s[i] == "\\" {
                        switch Lexer.escape(s, &i) {
                        case .success(let v):
                            guard let scalar = Unicode.Scalar(v) else { return .failure(LexError(column: i, length: 1, message: "invalid character in string")) }
                            text.append(scalar)
                        case .failure(let error): return .failure(error)
                        }
                    } else {
                        text.append(s[i])
                        i += 1
                    }
                }
                tokens.append(Token(kind: .string(String(text)), column: start + 1, length: i - start))
            } else if i + 1 < s.count, Lexer.twoCharacterStarts.contains(c), Lexer.twoCharacterOperators.contains(String(String.UnicodeScalarView([c, s[i + 1]]))) {
                tokens.append(Token(kind: .punctuation(String(String.UnicodeScalarView([c, s[i + 1]]))), column: start + 1, length: 2))
                i += 2
            } else if Lexer.singleCharacterPunctuation.contains(c) {
                tokens.append(Token(kind: .punctuation(String(c)), column: start + 1, length: 1))
                i += 1
            } else {
                let shown = c.value < 0x20 || c.value == 0x7f ? "U+" + String(c.value, radix: 16, uppercase: true) : "'\(c)'"
                return .failure(LexError(column: start + 1, length: 1, message: "unexpected character \(shown)"))
            }
        }
        return .success(tokens)
    }

    func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || c == "."
    }

    func isIdentifierContinue(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || (c >= "0" && c <= "9")
    }

    /// Reads an escape at `s[i] == "\\"`, leaving `i` after it.
    static func escape(_ s: [Unicode.Scalar], _ i: inout Int) -> Result<UInt32, LexError> {
        let start = i
        i += 1
        guard i < s.count else { return .failure(LexError(column: start + 1, length: 1, message: "unterminated escape sequence")) }
        let c = s[i]
        i += 1
        switch c {
        case "n": return .success(10)
        case "t": return .success(9)
        case "r": return .success(13)
        case "0": return .success(0)
        case "\\": return .success(92)
        case "'": return .success(39)
        case "\"": return .success(34)
        case "x":
            var value: UInt32 = 0
            var digits = 0
            while i < s.count, digits < 2, let d = hexValue(s[i]) { value = value * 16 + d; i += 1; digits += 1 }
            guard digits > 0 else { return .failure(LexError(column: start + 1, length: 2, message: "\\x needs one or two hex digits")) }
            return .success(value)
        default:
            return .failure(LexError(column: start + 1, length: 2, message: "unknown escape sequence '\\\(c)'"))
        }
    }

    static func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "0"..."9": return c.value - 48
        case "a"..."f": return c.value - 87
        case "A"..."F": return c.value - 55
        default: return nil
        }
    }

    /// Decimal, `0x` hex, `0b` binary and `0o` octal; `_` may separate digits. Values up to
    /// 2^64-1 are accepted and kept as their 64-bit two's-complement pattern.
    public static func parseInteger(_ text: String) -> Result<Int64, Reason> {
        var digits = Substring(text.lowercased())
        var radix: UInt64 = 10
        for (prefix, r) in [("0x", UInt64(16)), ("0b", 2), ("0o", 8)] where digits.hasPrefix(prefix) {
            radix = r
            digits = digits.dropFirst(2)
        }
        digits = Substring(digits.filter { $0 != "_" })
        guard !digits.isEmpty else { return .failure(Reason("number '\(text)' has no digits")) }
        var value: UInt64 = 0
        for ch in digits.unicodeScalars {
            guard let d = hexValue(ch), UInt64(d) < radix else {
                let base = radix == 16 ? "hexadecimal" : radix == 2 ? "binary" : radix == 8 ? "octal" : "decimal"
                return .failure(Reason("invalid digit '\(ch)' in \(base) number '\(text)'"))
            }
            let (shifted, o1) = value.multipliedReportingOverflow(by: radix)
            let (sum, o2) = shifted.addingReportingOverflow(UInt64(d))
            guard !o1 && !o2 else { return .failure(Reason("number '\(text)' does not fit in 64 bits")) }
            value = sum
        }
        return .success(Int64(bitPattern: value))
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
