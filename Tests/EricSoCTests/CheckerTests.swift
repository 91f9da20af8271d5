import Crypto
import EricSoC
import MPUAsm
import MPUISA
import MPUSim
import Testing

/// The checker's registers and timing (docs/soc.md, "Checker"). Cycle counts by hand from
/// docs/timing.md (slides preset, MPU and LM32 both at 80 MHz): `int` costs 1 cycle and an
/// alert carries the cycle its `int` began; a page fetch costs 1703 cycles before the run.
@Suite struct CheckerTests {
    final class Clock: @unchecked Sendable { var now: UInt64 = 0 }

    /// int 5 at cycle 0, int 7 at 1, int 0 (end) at 2: 3 cycles.
    static let code: [UInt8] = {
        let result = MPUAssembler.assemble(source: "    intb $5\n    intb $7\n    intq r0\n")
        return result.image!.code
    }()

    /// A checker over two zero pages with the automaton above loaded at 0. The timelines below
    /// are worked out with the automaton running on the page, so without the zero-page flag
    /// (`.slidesPlain`); `timing: .slides` gives the flag (aZeroPageIsNotRun...).
    static func checker(fifoDepth: Int = 16, timing: TimingModel = .slidesPlain) -> (Checker, Clock) {
        let clock = Clock()
        let host = BufferMemory([(physicalStart: 0x10_0000, bytes: [UInt8](repeating: 0, count: 8192))])
        let checker = Checker(host: host, timing: timing, fifoDepth: fifoDepth, clock: { clock.now })
        #expect(checker.write(0x1c, size: 4, value: 0))
        for word in stride(from: 0, to: code.count, by: 4) {
            #expect(checker.write(0x20, size: 4, value: code[word..<word + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
        }
        #expect(checker.write(0x10, size: 4, value: 0x10_1000))      // page 0x101000
        return (checker, clock)
    }

    @Test func runReleasesAlertsThenEndsOnTheLM32Clock() {
        let (checker, clock) = Self.checker()
        #expect(checker.write(0x08, size: 4, value: 3))               // interrupt on alerts and on the end
        clock.now = 1000
        #expect(checker.write(0x00, size: 4, value: 1))               // START at LM32 cycle 1000
        #expect(checker.read(0x04, size: 4) == 1)                     // BUSY
        #expect(checker.nextEvent == 1000 + 1703)
        clock.now = 2702
        #expect(checker.read(0x04, size: 4) == 1 && !checker.interruptLevel)
        clock.now = 2703
        #expect(checker.read(0x04, size: 4) == Checker.busy | Checker.alert)                 // BUSY, ALERT
        #expect(checker.interruptLevel)
        #expect(checker.read(0x24, size: 4) == 5 && checker.read(0x5c, size: 4) == 1)
        #expect(checker.read(0x6c, size: 4) == 0 && checker.read(0x70, size: 4) == 0)      // int 5 ran at cycle 0 of the run
        #expect(checker.read(0x64, size: 4) == 2703 && checker.read(0x68, size: 4) == 0)   // TIME: the LM32 clock
        clock.now = 2706
        #expect(checker.read(0x04, size: 4) == Checker.done | Checker.alert)                 // DONE at 1000 + 1706; 5 and 7 queued
        #expect(checker.read(0x5c, size: 4) == 2)
        #expect(checker.write(0x2c, size: 4, value: 0) && checker.read(0x24, size: 4) == 7 && checker.read(0x6c, size: 4) == 1)
        #expect(checker.write(0x2c, size: 4, value: 0) && checker.read(0x04, size: 4) == 2)
        #expect(checker.read(0x30, size: 4) == 1706 && checker.read(0x38, size: 4) == 3)
        #expect(checker.write(0x04, size: 4, value: 2) && checker.read(0x04, size: 4) == 0 && !checker.interruptLevel)
        // The same page again: the page buffer holds it, no fetch.
        #expect(checker.write(0x00, size: 4, value: 1) && checker.nextEvent == 2706)
        clock.now = 2709
        #expect(checker.read(0x04, size: 4) == Checker.done | Checker.alert && checker.read(0x30, size: 4) == 3)
    }

    /// With the zero-page flag (docs/timing.md) the DMA finds the page all zero and the checker
    /// does not run the automaton, whose zero-page outcome it recorded at load: DONE when the
    /// fetch ends (1000 + 1703), both alerts queued at once with cycle 0, no MPU cycle spent
    /// on automata, no instruction run.
    @Test func aZeroPageIsNotRunWithTheZeroPageFlag() {
        let (checker, clock) = Self.checker(timing: .slides)
        clock.now = 1000
        #expect(checker.write(0x00, size: 4, value: 1) && checker.nextEvent == 1000 + 1703)
        clock.now = 2703
        #expect(checker.read(0x04, size: 4) == Checker.done | Checker.alert && checker.read(0x5c, size: 4) == 2)
        #expect(checker.read(0x24, size: 4) == 5 && checker.read(0x6c, size: 4) == 0)
        #expect(checker.write(0x2c, size: 4, value: 0) && checker.read(0x24, size: 4) == 7 && checker.read(0x6c, size: 4) == 0)
        #expect(checker.read(0x30, size: 4) == 1703 && checker.read(0x38, size: 4) == 0 && checker.read(0x3c, size: 4) == 0)
    }

    @Test func aFullFIFOStallsTheMPUInsteadOfLosingAlerts() {
        let (checker, clock) = Self.checker(fifoDepth: 1)
        #expect(checker.write(0x00, size: 4, value: 1))               // START at 0
        clock.now = 5000
        #expect(checker.read(0x04, size: 4) == Checker.busy | Checker.alert)                 // 5 queued at 1703; 7 (due 1704) stalls
        #expect(checker.read(0x24, size: 4) == 5)
        #expect(checker.write(0x2c, size: 4, value: 0))               // pop at 5000: 7 enters, the MPU resumes
        #expect(checker.read(0x24, size: 4) == 7)
        #expect(checker.nextEvent == 5000 + 2)                        // the end: 2 more MPU cycles
        clock.now = 5002
        #expect(checker.read(0x04, size: 4) == Checker.done | Checker.alert)
        #expect(checker.read(0x30, size: 4) == 1706)                  // MPU cycles: the stall is LM32 time
    }

    @Test func wordModeHasNoPageFetchAndBadStartsAreErrors() {
        let (checker, clock) = Self.checker()
        #expect(checker.write(0x0c, size: 4, value: 1))               // MODE: word
        #expect(checker.write(0x00, size: 4, value: 1))
        #expect(checker.nextEvent == 0)                               // int 5 at cycle 0
        #expect(checker.write(0x00, size: 4, value: 1))               // START while BUSY
        #expect(checker.read(0x04, size: 4)! & 16 != 0)
        clock.now = 3
        #expect(checker.read(0x04, size: 4) == Checker.done | Checker.alert | Checker.error)
        #expect(checker.write(0x04, size: 4, value: 16) && checker.read(0x04, size: 4) == Checker.done | Checker.alert)
        #expect(checker.write(0x10, size: 4, value: 0x20_0000))       // a page outside the dump
        #expect(checker.write(0x00, size: 4, value: 1) && checker.read(0x04, size: 4)! & 16 != 0)
    }

    @Test func programMemoryRangesAndBusErrors() {
        let (checker, _) = Self.checker()
        #expect(checker.write(0x1c, size: 4, value: 0) && checker.read(0x20, size: 4) == Self.code[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        #expect(checker.read(0x1c, size: 4) == 4)                     // auto-increment
        #expect(checker.read(0x44, size: 4) == 1)                     // one range in the dump
        #expect(checker.read(0x4c, size: 4) == 0x10_0000 && checker.read(0x54, size: 4) == 0x10_2000)
        #expect(checker.write(0x48, size: 4, value: 1) && checker.read(0x4c, size: 4) == 0)
        #expect(checker.write(0x14, size: 4, value: 1) && checker.read(0x14, size: 4) == 1)   // PAGE_HI
        #expect(checker.read(0x200, size: 4) == nil && checker.read(0x04, size: 2) == nil)
    }

    /// The host read port and the page digest unit (docs/soc.md): the dump's own bytes, in
    /// memory order; nothing outside it is read, and asking sets ERROR.
    @Test func theHostReadPortAndTheDigestUnitReadOnlyTheDump() {
        var bytes = [UInt8](repeating: 0, count: 8192)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i * 7 + 3) }
        let checker = Checker(host: BufferMemory([(physicalStart: 0x10_0000, bytes: bytes)]))
        func error() -> Bool { checker.read(0x04, size: 4)! & Checker.error != 0 }
        #expect(checker.write(0xd0, size: 4, value: 0x10_1ff8) && checker.write(0xd4, size: 4, value: 0))
        #expect(checker.read(0xd8, size: 4) == UInt32(bytes[0x1ff8]) << 24 | UInt32(bytes[0x1ff9]) << 16 | UInt32(bytes[0x1ffa]) << 8 | UInt32(bytes[0x1ffb]))
        #expect(checker.read(0xd8, size: 4) != nil && !error() && checker.read(0xd0, size: 4) == 0x10_2000)
        #expect(checker.read(0xd8, size: 4) == 0 && error())                     // past the dump's end
        _ = checker.write(0x04, size: 4, value: Checker.error)
        #expect(checker.write(0xd0, size: 4, value: 0xffff_fffc) && checker.write(0xd4, size: 4, value: 0xffff_ffff))
        #expect(checker.read(0xd8, size: 4) == 0 && error() && checker.read(0xd0, size: 4) == 0)   // wraps, reads nothing
        _ = checker.write(0x04, size: 4, value: Checker.error)
        #expect(checker.write(0xd0, size: 4, value: 0x10_1000) && checker.write(0xd4, size: 4, value: 0) && checker.write(0xdc, size: 4, value: 0))
        let digest = (0..<8).map { checker.read(0xe0 + 4 * UInt32($0), size: 4)! }
        let expected = Array(SHA256.hash(data: bytes[0x1000..<0x2000]))
        #expect(!error() && digest == (0..<8).map { w in expected[w * 4..<w * 4 + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } })
        #expect(checker.write(0xd0, size: 4, value: 0x10_1800) && checker.write(0xdc, size: 4, value: 0))   // not a page's start
        #expect(error() && (0..<8).allSatisfy { checker.read(0xe0 + 4 * UInt32($0), size: 4) == 0 })
    }

    /// The same automaton loaded at 0x100 runs with BASE = 0x100: its addresses count from there.
    @Test func baseRelocatesTheAutomaton() {
        let (checker, clock) = Self.checker()
        #expect(checker.write(0x1c, size: 4, value: 0x100))
        for word in stride(from: 0, to: Self.code.count, by: 4) {
            #expect(checker.write(0x20, size: 4, value: Self.code[word..<word + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
        }
        #expect(checker.write(0x1c, size: 4, value: 0) && checker.write(0x20, size: 4, value: 0) && checker.write(0x20, size: 4, value: 0))
        #expect(checker.write(0x60, size: 4, value: 0x100) && checker.read(0x60, size: 4) == 0x100)
        #expect(checker.write(0x0c, size: 4, value: 1) && checker.write(0x00, size: 4, value: 1))
        clock.now = 10
        #expect(checker.read(0x24, size: 4) == 5 && checker.read(0x5c, size: 4) == 2)
        #expect(checker.read(0x04, size: 4) == Checker.done | Checker.alert && checker.read(0x40, size: 4) == 0)
    }

    static func load(_ source: String, at address: UInt32, into checker: Checker) -> Int {
        let code = MPUAssembler.assemble(source: source).image!.code
        #expect(checker.write(0x1c, size: 4, value: address))
        for word in stride(from: 0, to: code.count, by: 4) {
            #expect(checker.write(0x20, size: 4, value: code[word..<word + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
        }
        return code.count
    }

    /// START_LIST runs the listed automata in turn on one page fetch. By hand: fetch 1703;
    /// A (int 5, int 7, end: 3 cycles) alerts at 1703 and 1704 and ends at 1706; B (int 9,
    /// end: 2 cycles) alerts at 1706 and ends at 1708.
    @Test func startListRunsEveryListedAutomatonOnOneFetch() {
        let (checker, clock) = Self.checker()
        #expect(Self.load("    intb $9\n    intq r0\n", at: 0x18, into: checker) == 16)
        for (index, slot) in [(base: UInt32(0), length: UInt32(24)), (base: 0x18, length: 16)].enumerated() {
            #expect(checker.write(0x7c, size: 4, value: UInt32(index)))
            #expect(checker.write(0x80, size: 4, value: slot.base) && checker.write(0x84, size: 4, value: 0))
            #expect(checker.write(0x88, size: 4, value: slot.length))
        }
        #expect(checker.write(0x78, size: 4, value: 2) && checker.read(0x78, size: 4) == 2)
        #expect(checker.write(0x7c, size: 4, value: 1) && checker.read(0x80, size: 4) == 0x18 && checker.read(0x88, size: 4) == 16)
        #expect(checker.write(0x00, size: 4, value: 2))               // START_LIST at 0
        #expect(checker.nextEvent == 1703)
        clock.now = 1707
        #expect(checker.read(0x04, size: 4) == Checker.busy | Checker.alert && checker.read(0x5c, size: 4) == 3)
        #expect(checker.read(0x24, size: 4) == 5 && checker.read(0x8c, size: 4) == 0)
        #expect(checker.write(0x2c, size: 4, value: 0) && checker.write(0x2c, size: 4, value: 0))
        #expect(checker.read(0x24, size: 4) == 9 && checker.read(0x8c, size: 4) == 1 && checker.read(0x6c, size: 4) == 0)
        clock.now = 1708
        #expect(checker.read(0x04, size: 4) == Checker.done | Checker.alert)
        #expect(checker.read(0x30, size: 4) == 1708 && checker.read(0x38, size: 4) == 5 && checker.read(0x90, size: 4) == 0)
        // An empty list finishes at once, with nothing run.
        #expect(checker.write(0x78, size: 4, value: 0) && checker.write(0x00, size: 4, value: 2))
        #expect(checker.read(0x04, size: 4)! & Checker.done != 0 && checker.read(0x30, size: 4) == 0)
        // LIST_COUNT stops at 64 entries, LIST_SELECT wraps.
        #expect(checker.write(0x78, size: 4, value: 100) && checker.read(0x78, size: 4) == 64)
        #expect(checker.write(0x7c, size: 4, value: 65) && checker.read(0x7c, size: 4) == 1)
    }

    /// LENGTH bounds an automaton: running past it is a fault, not the next automaton's code.
    @Test func lengthBoundsTheAutomatonAndFaultsAreCounted() {
        let (checker, clock) = Self.checker()
        #expect(checker.write(0x0c, size: 4, value: 1))               // word mode: no fetch
        #expect(checker.write(0x74, size: 4, value: 8) && checker.read(0x74, size: 4) == 8)
        #expect(checker.write(0x00, size: 4, value: 1))               // int 5, then pc 8 is outside
        clock.now = 10
        #expect(checker.read(0x04, size: 4) == Checker.done | Checker.alert | Checker.fault)
        #expect(checker.read(0x40, size: 4) == UInt32(FaultKind.allCases.firstIndex(of: .pcOutsideProgram)! + 1))
        #expect(checker.read(0x90, size: 4) == 1 && checker.read(0x30, size: 4) == 1)
        #expect(checker.write(0x04, size: 4, value: Checker.done | Checker.fault) && checker.write(0x2c, size: 4, value: 0))
        #expect(checker.write(0x74, size: 4, value: 0) && checker.write(0x00, size: 4, value: 1))   // to the end of memory
        clock.now = 20
        #expect(checker.read(0x04, size: 4) == Checker.done | Checker.alert && checker.read(0x90, size: 4) == 0)
        #expect(checker.read(0x40, size: 4) == 0 && checker.read(0x30, size: 4) == 3)
    }

    /// Eight pages, a marker byte 0x5a on pages 2 and 5; the automaton raises 7 on a marked
    /// page and ends without it otherwise. By hand, in word mode (no fetch, mload 1 + 64, a
    /// taken jump 1 + 1): marked, loadw 1, loadb 1, mloadb 65, equb 1, intb 1 (at cycle 68),
    /// end 1 = 70; unmarked, 1 + 1 + 65, equb taken 2, end 1 = 70 too.
    static let marker = "    loadw r3, $skip\n    loadb r4, $0x5a\n    mloadb r2, $0\n    equb r2, r4, r3\n    intb $7\nskip:\n    intq r0\n"

    /// START_LIST page after page (what RunAhead foresees) and then out of order (what it does
    /// not): the same alerts and cycles either way, worked out by hand.
    @Test func pagesStartedInAnyOrderGiveTheSameOutcomes() {
        let clock = Clock()
        var bytes = [UInt8](repeating: 0, count: 8 * 4096)
        bytes[2 * 4096] = 0x5a
        bytes[5 * 4096] = 0x5a
        let checker = Checker(host: BufferMemory([(physicalStart: 0x40_0000, bytes: bytes)]), clock: { clock.now })
        let length = UInt32(Self.load(Self.marker, at: 0, into: checker))
        #expect(checker.write(0x7c, size: 4, value: 0) && checker.write(0x80, size: 4, value: 0) && checker.write(0x84, size: 4, value: 0))
        #expect(checker.write(0x88, size: 4, value: length) && checker.write(0x78, size: 4, value: 1))
        #expect(checker.write(0x0c, size: 4, value: 1) && checker.write(0x08, size: 4, value: 0))
        func scan(_ page: Int) -> (alerts: [UInt32], cycles: UInt32?) {
            #expect(checker.write(0x10, size: 4, value: UInt32(0x40_0000 + page * 4096)) && checker.write(0x00, size: 4, value: 2))
            clock.now += 1000
            var alerts: [UInt32] = []
            while checker.read(0x5c, size: 4)! > 0 {
                alerts.append(checker.read(0x24, size: 4)!)
                #expect(checker.read(0x6c, size: 4) == 68)
                _ = checker.write(0x2c, size: 4, value: 0)
            }
            let done = checker.read(0x04, size: 4)! & Checker.done != 0
            _ = checker.write(0x04, size: 4, value: Checker.done)
            return (alerts, done ? checker.read(0x30, size: 4) : nil)
        }
        let expected: [Int: (alerts: [UInt32], cycles: UInt32?)] = Dictionary(uniqueKeysWithValues: (0..<8).map {
            ($0, [2, 5].contains($0) ? ([7], 70) : ([], 70))
        })
        for page in Array(0..<8) + [5, 1, 2, 7, 0, 5] {
            let outcome = scan(page)
            #expect(outcome.alerts == expected[page]!.alerts, "page \(page)")
            #expect(outcome.cycles == expected[page]!.cycles, "page \(page)")
        }
    }
}

/// The follow-up unit (docs/soc.md, "Follow-ups"), by hand: slot 0 (the sweep) raises 0x15
/// with a pointer to page 0x100000 and 0x16 with the same pointer; rules send 0x15's page to
/// slot 1 (int 9, end: 2 cycles) and 0x16's to slot 2 (end at once: 1 cycle), both run only as
/// follow-ups. After a START_LIST on page 0x101000, START_FOLLOWUPS makes two runs: page fetch
/// 1703 + 2 cycles, then 1703 + 1, and queues 9 (origin 1) and a run without an alert (origin 2).
@Suite struct FollowUpUnitTests {
    @Test func ruleWordsAreTheDocumentedBits() {
        // 0x2e | 1 << 8 | 1 << 14 | 4 << 16 | 3 << 24, worked by hand
        let rule = Checker.FollowRule(source: 3, value: 0x2e, kind: .follow, target: 1, depth: 4)
        #expect(rule.word == 0x0304_412e)
        #expect(Checker.FollowRule(word: 0x0304_412e) == rule)
        #expect(Checker.FollowRule(word: 0x0000_0015) == nil)          // kind 0: not a rule
    }

    @Test func followUpsRunOnTheDeviceAndComeOutWithTheirPageAndOrigin() {
        let (checker, clock) = CheckerTests.checker()
        let a = CheckerTests.load("    intb $0x15\n    loadd r1, $0x100007\n    intq r1\n    intb $0x16\n    intq r1\n    intq r0\n", at: 0, into: checker)
        let b = CheckerTests.load("    intb $9\n    intq r0\n", at: UInt32(a), into: checker)
        _ = CheckerTests.load("    intq r0\n", at: UInt32(a + b), into: checker)
        for (slot, base, length) in [(0, 0, a), (1, a, b), (2, a + b, 8)] {
            #expect(checker.write(0x7c, size: 4, value: UInt32(slot)))
            #expect(checker.write(0x80, size: 4, value: UInt32(base)) && checker.write(0x84, size: 4, value: 0))
            #expect(checker.write(0x88, size: 4, value: UInt32(length)))
        }
        #expect(checker.write(0x78, size: 4, value: 1) && checker.write(0x98, size: 4, value: 3))
        #expect(checker.write(0x94, size: 4, value: 0x0001_4115) && checker.write(0x94, size: 4, value: 0x0001_4216))
        #expect(checker.read(0x94, size: 4) == 2)
        #expect(checker.write(0x00, size: 4, value: 2))                // the sweep: START_LIST on 0x101000
        clock.now = 5000
        var sweep: [(UInt32, UInt32, UInt32)] = []                     // value, origin, page
        while checker.read(0x5c, size: 4)! > 0 {
            sweep.append((checker.read(0x24, size: 4)!, checker.read(0x9c, size: 4)!, checker.read(0xa0, size: 4)!))
            #expect(checker.write(0x2c, size: 4, value: 0))
        }
        #expect(sweep.map(\.0) == [0x15, 0x10_0007, 0x16, 0x10_0007] && sweep.allSatisfy { $0.1 == 0 && $0.2 == 0x10_1000 })
        #expect(checker.write(0x04, size: 4, value: 2))
        #expect(checker.write(0x00, size: 4, value: 4))                // START_FOLLOWUPS at 5000
        #expect(checker.nextEvent == 5000 + 1705)
        clock.now = 5000 + 1705
        #expect(checker.read(0x24, size: 4) == 9 && checker.read(0x9c, size: 4) == 1 && checker.read(0x8c, size: 4) == 1)
        #expect(checker.read(0xa0, size: 4) == 0x10_0000 && checker.read(0xa4, size: 4) == 0)
        #expect(checker.write(0x2c, size: 4, value: 0))
        clock.now = 5000 + 1705 + 1704
        #expect(checker.read(0x04, size: 4) == Checker.done | Checker.alert)
        #expect(checker.read(0x24, size: 4) == 0 && checker.read(0x9c, size: 4) == 2 && checker.read(0x8c, size: 4) == 2)
        #expect(checker.read(0x30, size: 4) == 3409 && checker.read(0xa8, size: 4) == 2)
        #expect(checker.followUpStatistics.runs == 2 && checker.followUpFetchCycles == 3406)
        // The walk forgot the sweep: a second START_FOLLOWUPS makes no run.
        #expect(checker.write(0x2c, size: 4, value: 0) && checker.write(0x04, size: 4, value: 2))
        #expect(checker.write(0x00, size: 4, value: 4) && checker.read(0x04, size: 4)! & Checker.done != 0 && checker.read(0xa8, size: 4) == 0)
        // A malformed rule is an error; 0 forgets the rules.
        #expect(checker.write(0x94, size: 4, value: 0x15) && checker.read(0x04, size: 4)! & Checker.error != 0)
        #expect(checker.write(0x94, size: 4, value: 0) && checker.read(0x94, size: 4) == 0)
    }
}
