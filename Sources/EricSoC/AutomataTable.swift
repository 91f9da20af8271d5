/// The automata table (docs/soc.md): what `eric` writes in ROM for the firmware to load, and
/// what a sealed bundle carries for the checker to install itself (docs/security.md).
///
/// Words are big-endian: "ERIC" (0x45524943), the count, how many of them the sweep runs (the
/// first ones), then per automaton its code size in bytes, its entry point, the number of its
/// `.alert` values and those values (low 32 bits), the number of its follow rules and those
/// rules (FOLLOW_RULE words), and its code.
public struct AutomataTable: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var entry: UInt32
        public var alerts: [UInt32]
        public var rules: [UInt32]
        public var code: [UInt8]
    }

    public static let magic: UInt32 = 0x4552_4943
    public var entries: [Entry]
    public var sweepCount: Int

    public init(entries: [Entry], sweepCount: Int) {
        self.entries = entries
        self.sweepCount = sweepCount
    }

    public var bytes: [UInt8] {
        func word(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * $0)) } }
        var table = word(Self.magic) + word(UInt32(entries.count)) + word(UInt32(sweepCount))
        for entry in entries {
            table += word(UInt32(entry.code.count)) + word(entry.entry) + word(UInt32(entry.alerts.count)) + entry.alerts.flatMap(word)
                + word(UInt32(entry.rules.count)) + entry.rules.flatMap(word) + entry.code
        }
        return table
    }

    /// Reads a table, checking every count against what the checker holds (64 automata, 64 KiB
    /// of code in whole instructions, 256 follow rules) and against the bytes there are; the error
    /// names the byte.
    public init(parsing bytes: [UInt8]) throws(TableError) {
        var at = 0
        func word(_ what: String) throws(TableError) -> UInt32 {
            guard at + 4 <= bytes.count else { throw TableError(offset: at, message: "cut short: expected \(what)") }
            defer { at += 4 }
            return bytes[at..<at + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        guard try word("the magic") == Self.magic else { throw TableError(offset: 0, message: "no \"ERIC\" magic") }
        let count = Int(try word("the count"))
        guard count >= 1, count <= Checker.listCapacity else { throw TableError(offset: 4, message: "\(count) automata; the checker holds 1 to \(Checker.listCapacity)") }
        let sweep = Int(try word("the sweep's count"))
        guard sweep >= 1, sweep <= count else { throw TableError(offset: 8, message: "the sweep runs \(sweep) of \(count) automata") }
        var entries: [Entry] = []
        var codeBytes = 0
        var ruleCount = 0
        for _ in 0..<count {
            let sizeAt = at
            let size = Int(try word("a code size"))
            guard size > 0, size % 8 == 0, size <= Checker.programBytes - codeBytes else {
                throw TableError(offset: sizeAt, message: "code of \(size) bytes: whole instructions, \(Checker.programBytes) bytes of program memory in all")
            }
            codeBytes += size
            let entryAt = at
            let entry = try word("an entry point")
            guard entry % 8 == 0, entry < UInt32(size) else { throw TableError(offset: entryAt, message: "entry point 0x\(String(entry, radix: 16)) outside its code") }
            let alertsAt = at
            let alertCount = Int(try word("an alert count"))
            guard alertCount <= 256 else { throw TableError(offset: alertsAt, message: "\(alertCount) alert names; at most 256") }
            var alerts: [UInt32] = []
            for _ in 0..<alertCount { alerts.append(try word("an alert value")) }
            let rulesAt = at
            let rules = Int(try word("a rule count"))
            ruleCount += rules
            guard ruleCount <= Checker.ruleCapacity else { throw TableError(offset: rulesAt, message: "more than \(Checker.ruleCapacity) follow rules") }
            var words: [UInt32] = []
            for _ in 0..<rules {
                let ruleAt = at
                let rule = try word("a follow rule")
                guard let parsed = Checker.FollowRule(word: rule), parsed.source < count, parsed.kind != .follow || parsed.target < count else {
                    throw TableError(offset: ruleAt, message: "follow rule 0x\(String(rule, radix: 16)) is malformed or names no automaton of the table")
                }
                words.append(rule)
            }
            guard at + size <= bytes.count else { throw TableError(offset: bytes.count, message: "cut short: expected \(size) bytes of code") }
            entries.append(Entry(entry: entry, alerts: alerts, rules: words, code: Array(bytes[at..<at + size])))
            at += size
        }
        guard at == bytes.count else { throw TableError(offset: at, message: "\(bytes.count - at) bytes after the last automaton") }
        self.init(entries: entries, sweepCount: sweep)
    }
}

public struct TableError: Error, Sendable, CustomStringConvertible, Equatable {
    public var offset: Int
    public var message: String
    public var description: String { "at byte \(offset): \(message)" }
}
