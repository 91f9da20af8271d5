import AsmKit
import Testing

@Suite struct LexerTests {
    let lexer = Lexer(commentPrefixes: ["//"])

    func kinds(_ line: String) throws -> [TokenKind] {
        try lexer.tokenize(line).get().map(\.kind)
    }

    @Test func literals() throws {
        #expect(try kinds("0x1F 0b101 0o17 1_000 'A' '\\n' '\\x41'") == [.integer(31), .integer(5), .integer(15), .integer(1000), .integer(65), .integer(10), .integer(65)])
        #expect(try kinds("0xffffffffffffffff") == [.integer(-1)])
        #expect(try kinds("\"a\\tb\"") == [.string("a\tb")])
    }

    @Test func operatorsAndComments() throws {
        #expect(try kinds("a<<2>=b // c") == [.identifier("a"), .punctuation("<<"), .integer(2), .punctuation(">="), .identifier("b")])
        #expect(try kinds("   // only a comment").isEmpty)
        #expect(try kinds(".loop: r6_1") == [.identifier(".loop"), .punctuation(":"), .identifier("r6_1")])
    }

    @Test func columns() throws {
        let tokens = try lexer.tokenize("\tloadw r2, $0x1000").get()
        #expect(tokens.map(\.column) == [2, 8, 10, 12, 13])
        #expect(tokens.last?.length == 6)
    }

    @Test func errors() {
        #expect(lexer.tokenize("x = 0x").failureMessage == "number '0x' has no digits")
        #expect(lexer.tokenize("\"open").failureMessage == "unterminated string (expected \")")
        #expect(lexer.tokenize("a # b").failureMessage == "unexpected character '#'")
        #expect(lexer.tokenize("99999999999999999999").failureMessage == "number '99999999999999999999' does not fit in 64 bits")
    }
}

extension Result where Failure == LexError {
    var failureMessage: String? { if case .failure(let e) = self { e.message } else { nil } }
}

@Suite struct ExpressionTests {
    func value(_ text: String, _ symbols: [String: Int64] = [:]) throws -> Int64 {
        let tokens = try Lexer(commentPrefixes: []).tokenize(text).get()
        var parser = ExpressionParser(tokens: tokens, endColumn: text.count + 1)
        let expression = try parser.parse()
        #expect(parser.position == tokens.count)
        return try expression.evaluate { symbols[$0].map(SymbolLookup.value) ?? .undefined }
    }

    @Test func precedenceFollowsC() throws {
        #expect(try value("1 + 2 * 3") == 7)
        #expect(try value("(1 + 2) * 3") == 9)
        #expect(try value("1 << 4 | 1") == 17)
        #expect(try value("6 & 3 ^ 1") == 3)       // & before ^
        #expect(try value("1 | 2 ^ 3") == 1)       // ^ before |
        #expect(try value("1 + 1 == 2 && 3 > 2") == 1)
        #expect(try value("-7 / 2") == -3)          // truncating division
        #expect(try value("-7 % 2") == -1)
        #expect(try value("~0 >> 60") == 15)        // logical shift
        #expect(try value("1 << 64") == 0)
        #expect(try value("!0 + !5") == 1)
        #expect(try value("0x7fffffffffffffff + 1") == Int64.min) // wraps
    }

    @Test func symbols() throws {
        #expect(try value("BASE + 8", ["BASE": 0x1000]) == 0x1008)
        #expect(throws: ExpressionError(column: 1, length: 4, message: "undefined symbol 'BASE'")) { try value("BASE") }
        #expect(throws: ExpressionError(column: 3, length: 1, message: "division by zero")) { try value("1 / 0") }
    }
}

@Suite struct DiagnosticTests {
    @Test func caretKeepsTabsAndUnderlinesTheSpan() {
        let d = Diagnostic(.error, "bad", at: SourceLocation(file: "f.s", line: 3, column: 8, length: 3), sourceLine: "\tloadw\tr16, $1")
        #expect(d.rendered() == "f.s:3:8: error: bad\n\tloadw\tr16, $1\n\t     \t^~~")
    }

    @Test func fileLevelDiagnosticHasNoLine() {
        let d = Diagnostic(.error, "cannot read file: No such file or directory", at: SourceLocation(file: "x.s", line: 0, column: 0))
        #expect(d.rendered() == "x.s: error: cannot read file: No such file or directory")
    }

    @Test func suggestions() {
        #expect(Spelling.distance("kitten", "sitting") == 3)
        #expect(Spelling.nearest(to: "lodw", in: ["loadw", "loadb", "mload"]) == "loadw")
        #expect(Spelling.nearest(to: "xyzzy", in: ["loadw"]) == nil)
        // Case folds, for ASCII and beyond it; distances worked out by hand.
        #expect(Spelling.distance("LOADW", "loadw") == 0)
        #expect(Spelling.distance("Éta", "éte") == 1)
        #expect(Spelling.distance("", "abc") == 3)
        #expect(Spelling.nearest(to: "LODW", in: ["mload", "loadw"]) == "loadw")
        // Ties go to the first in alphabetical order, whatever the order given.
        #expect(Spelling.nearest(to: "lw", in: ["sw", "lb"]) == "lb")
    }

    /// The hint stops comparing a candidate once every cell of a row is over the limit: it must
    /// pick what the full distance picks. Checked against a plain Levenshtein over many words.
    @Test func cutOffHintAgreesWithTheFullDistance() {
        func plain(_ a: String, _ b: String) -> Int {
            let x = Array(a.lowercased()), y = Array(b.lowercased())
            var d = (0...x.count).map { i in (0...y.count).map { j in i == 0 ? j : (j == 0 ? i : 0) } }
            for i in stride(from: 1, through: x.count, by: 1) {
                for j in stride(from: 1, through: y.count, by: 1) {
                    d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
                }
            }
            return d[x.count][y.count]
        }
        let candidates = ["add", "addi", "and", "andhi", "b", "be", "bg", "bge", "bgeu", "bgu", "bi", "bne", "call", "calli",
                          "cmpe", "lb", "lbu", "lh", "lhu", "lw", "mv", "mvhi", "nop", "orhi", "sb", "sextb", "sh", "sw", "xnor"]
        var state: UInt64 = 12345
        for _ in 0..<2000 {
            var word = ""
            state = state &* 6364136223846793005 &+ 1442695040888963407
            for k in 0..<Int(state >> 61) + 1 { word.append(Character(Unicode.Scalar(UInt8(97 + (state >> UInt64(8 * k)) % 26)))) }
            let limit = max(1, min(3, word.count / 3 + 1))
            let expected = candidates.map { ($0, plain(word, $0)) }.filter { $0.1 <= limit }.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }?.0
            #expect(Spelling.nearest(to: word, in: candidates) == expected, "\(word)")
            #expect(Spelling.distance(word, "bgeu") == plain(word, "bgeu"))
        }
    }

    @Test func sourceFileLocatesBadUTF8() {
        #expect(throws: Diagnostic(.error, "invalid UTF-8 byte 0xc3 (the file must be UTF-8 text)", at: SourceLocation(file: "a.s", line: 2, column: 3))) {
            try SourceFile(path: "a.s", bytes: Array("ok\nab".utf8) + [0xc3, 0x28])
        }
        #expect(try! SourceFile(path: "a.s", bytes: [0xEF, 0xBB, 0xBF] + Array("x\r\ny".utf8)).lines == ["x", "y"])
    }
}
