// Constant expressions: C operators and precedence over 64-bit two's-complement values.
//   ||  &&  |  ^  &  == !=  < <= > >= (signed)  << >> (logical)  + -  * / % (signed)
//   unary - ~ + !  ( )  symbols  `.`
// Comparisons and logical operators give 1 or 0.
// Arithmetic wraps modulo 2^64; division by zero and negative shift counts are errors.

public indirect enum Expression: Hashable, Sendable {
    case integer(Int64, column: Int, length: Int)
    /// A symbol name as written; `.` alone means the current address.
    case symbol(String, column: Int, length: Int)
    case unary(String, Expression, column: Int)
    case binary(String, Expression, Expression, column: Int)

    /// First and one-past-last column, for underlining the whole expression.
    public var span: (start: Int, end: Int) {
        switch self {
        case .integer(_, let column, let length), .symbol(_, let column, let length):
            return (column, column + length)
        case .unary(_, let operand, let column):
            return (column, max(column + 1, operand.span.end))
        case .binary(_, let lhs, let rhs, _):
            return (lhs.span.start, rhs.span.end)
        }
    }

    /// Every symbol the expression names.
    public var symbols: [String] {
        switch self {
        case .integer: return []
        case .symbol(let name, _, _): return [name]
        case .unary(_, let e, _): return e.symbols
        case .binary(_, let l, let r, _): return l.symbols + r.symbols
        }
    }
}

public struct ExpressionError: Error, Hashable, Sendable {
    public var column: Int
    public var length: Int
    public var message: String

    public init(column: Int, length: Int, message: String) {
        self.column = column
        self.length = length
        self.message = message
    }
}

/// Recursive-descent parser over a token slice.
public struct ExpressionParser {
    public let tokens: [Token]
    public private(set) var position: Int
    /// Column just past the line's last token, for "expected ... at end of line".
    let endColumn: Int

    public init(tokens: [Token], position: Int = 0, endColumn: Int) {
        self.tokens = tokens
        self.position = position
        self.endColumn = endColumn
    }

    static let levels: [[String]] = [["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", "<=", ">", ">="],
                                     ["<<", ">>"], ["+", "-"], ["*", "/", "%"]]

    public mutating func parse() throws(ExpressionError) -> Expression {
        try parseLevel(0)
    }

    mutating func parseLevel(_ level: Int) throws(ExpressionError) -> Expression {
        if level == ExpressionParser.levels.count { return try parseUnary() }
        var lhs = try parseLevel(level + 1)
        while position < tokens.count, case .punctuation(let op) = tokens[position].kind, ExpressionParser.levels[level].contains(op) {
            let column = tokens[position].column
            position += 1
            let rhs = try parseLevel(level + 1)
            lhs = .binary(op, lhs, rhs, column: column)
        }
        return lhs
    }

    mutating func parseUnary() throws(ExpressionError) -> Expression {
        guard position < tokens.count else {
            throw ExpressionError(column: endColumn, length: 1, message: "expected an expression at end of line")
        }
        let token = tokens[position]
        switch token.kind {
        case .punctuation(let op) where ["-", "~", "+", "!"].contains(op):
            position += 1
            return .unary(op, try parseUnary(), column: token.column)
        case .punctuation("("):
            position += 1
            let inner = try parse()
            guard position < tokens.count, tokens[position].isPunctuation(")") else {
                let column = position < tokens.count ? tokens[position].column : endColumn
                throw ExpressionError(column: column, length: 1, message: "expected ')' to close the '(' at column \(token.column)")
            }
            position += 1
            return inner
        case .integer(let value):
            position += 1
            return .integer(value, column: token.column, length: token.length)
        case .identifier(let name):
            position += 1
            return .symbol(name, column: token.column, length: token.length)
        case .string:
            throw ExpressionError(column: token.column, length: token.length, message: "expected a number, not a string")
        case .punctuation(let p):
            throw ExpressionError(column: token.column, length: token.length, message: "expected an expression, found '\(p)'")
        }
    }
}

public enum SymbolLookup: Sendable {
    case value(Int64)
    /// Known name, but no value can be given here (message says why).
    case unavailable(String)
    case undefined
}

extension Expression {
    /// Evaluates with `lookup` resolving names; the first error wins.
    public func evaluate(_ lookup: (String) -> SymbolLookup) throws(ExpressionError) -> Int64 {
        switch self {
        case .integer(let value, _, _):
            return value
        case .symbol(let name, let column, let length):
            switch lookup(name) {
            case .value(let value): return value
            case .unavailable(let why): throw ExpressionError(column: column, length: length, message: why)
            case .undefined: throw ExpressionError(column: column, length: length, message: "undefined symbol '\(name)'")
            }
        case .unary(let op, let operand, _):
            let v = try operand.evaluate(lookup)
            switch op {
            case "-": return 0 &- v
            case "~": return ~v
            case "!": return v == 0 ? 1 : 0
            default: return v
            }
        case .binary(let op, let lhs, let rhs, let column):
            let l = try lhs.evaluate(lookup), r = try rhs.evaluate(lookup)
            switch op {
            case "+": return l &+ r
            case "-": return l &- r
            case "*": return l &* r
            case "/", "%":
                guard r != 0 else { throw ExpressionError(column: column, length: 1, message: "division by zero") }
                return op == "/" ? l.dividedReportingOverflow(by: r).partialValue : l.remainderReportingOverflow(dividingBy: r).partialValue
            case "==": return l == r ? 1 : 0
            case "!=": return l != r ? 1 : 0
            case "<": return l < r ? 1 : 0
            case "<=": return l <= r ? 1 : 0
            case ">": return l > r ? 1 : 0
            case ">=": return l >= r ? 1 : 0
            case "&&": return l != 0 && r != 0 ? 1 : 0
            case "||": return l != 0 || r != 0 ? 1 : 0
            case "&": return l & r
            case "|": return l | r
            case "^": return l ^ r
            case "<<", ">>":
                guard r >= 0 else { throw ExpressionError(column: column, length: 2, message: "negative shift count \(r)") }
                if r >= 64 { return 0 }
                let bits = UInt64(bitPattern: l)
                return Int64(bitPattern: op == "<<" ? bits << UInt64(r) : bits >> UInt64(r))
            default:
                throw ExpressionError(column: column, length: 1, message: "unknown operator '\(op)'")
            }
        }
    }
}
