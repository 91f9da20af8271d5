import Foundation
import MPUAsm
import MPUISA
@testable import MPUSim
import Synth
import TestSupport
import Testing

func page(_ fill: (Int) -> UInt64) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 4096)
    for i in 0..<512 {
        withUnsafeBytes(of: fill(i).littleEndian) { bytes.replaceSubrange((i * 8)..<(i * 8 + 8), with: $0) }
    }
    return bytes
}

@Suite struct ScannerTests {
    let identity = try! Harness().automaton(String(contentsOfFile: packageRoot + "/automata/ept-identity.s", encoding: .utf8))

    /// Alerts with the first qword's low byte if non-zero; faults when that qword is 0xdead
    /// (an mload far outside the page).
    let probe = try! Harness().automaton("""
        .automaton "probe"
        .alert ODD, 0x1ff, "never raised"
            loadw r9, $normal
            mloadq r1, $0
            loadd r2, $0xdead
            equq r1, r2, r9         // not 0xdead: normal
            mloadq r1, r2           // 0xdead: an offset far outside the page
            intq r0
        normal:
            mloadb r3, $0
            intq r3
            intq r0
        """)

    /// 70 pages in two ranges, the second starting mid-page, with identity tables, near
    /// misses, random pages and fault pages.
    func memory() -> BufferMemory {
        var generator = SplitMix64(seed: 7)
        var first: [UInt8] = []
        for index in 0..<40 {
            switch index % 5 {
            case 0: first += page { UInt64(0x4000_0000 + index * 0x20_0000 + $0 * 0x1000) | 0x37 }
            case 1: first += page { _ in generator.next() }
            case 2: first += page { $0 == 0 ? 0xdead : 0 }
            case 3: first += page { UInt64(($0 == 200 ? 7 : 0) + $0) << 12 | 7 }
            default: first += page { _ in UInt64(index) }
            }
        }
        var second = [UInt8](repeating: 0xAB, count: 0x800) // half a page before the first whole page
        for index in 0..<30 { second += page { UInt64(0x8000_0000 + index * 0x20_0000 + $0 * 0x1000) | 0x7 } }
        second += [UInt8](repeating: 0, count: 100)            // and a bit after the last
        return BufferMemory([(0, first), (0x10_0800, second)])
    }

    func events(jobs: Int, chunk: Int, window: Range<UInt64>? = nil) -> ([ScanEvent], ScanStatistics) {
        var events: [ScanEvent] = []
        let scanner = Scanner(automata: [identity, probe], options: ScanOptions(window: window, jobs: jobs, chunkPages: chunk))
        var statistics = scanner.run(memory()) { events.append($0) }
        statistics.hostSeconds = 0
        return (events, statistics)
    }

    @Test func sameEventsAndNumbersForAnyJobCountAndChunkSize() {
        let (reference, referenceStatistics) = events(jobs: 1, chunk: 256)
        for (jobs, chunk) in [(2, 1), (3, 3), (8, 2), (2, 256)] {
            let (other, otherStatistics) = events(jobs: jobs, chunk: chunk)
            #expect(other == reference, "jobs \(jobs), chunk \(chunk)")
            #expect(otherStatistics == referenceStatistics, "jobs \(jobs), chunk \(chunk)")
        }
    }

    @Test func findsThePlantedTablesAndGoesOnAfterFaults() throws {
        let (events, statistics) = events(jobs: 2, chunk: 4)
        let identityPages = events.compactMap { event -> UInt64? in
            if case .finding(let f) = event, f.automaton == 0 { return f.pageAddress } else { return nil }
        }
        let firstRange: [UInt64] = stride(from: 0, to: 40, by: 5).map { UInt64($0 * 4096) }
        let secondRange: [UInt64] = (0..<30).map { UInt64(0x10_1000 + $0 * 4096) }
        let expected = firstRange + secondRange
        #expect(identityPages == expected)
        let faults = events.compactMap { event -> FaultReport? in if case .fault(let f) = event { f } else { nil } }
        #expect(faults.map(\.pageAddress) == stride(from: 2, to: 40, by: 5).map { UInt64($0 * 4096) })
        #expect(faults.allSatisfy { $0.automaton == 1 && $0.fault.kind == .mloadOutsidePage && $0.fault.detail == 0xdead })
        // Whole pages only: the 0x800 bytes before 0x101000 and the 100 after the last page.
        #expect(statistics.pages == 70)
        #expect(statistics.skippedBytes == 0x800 + 100)
        #expect(statistics.perAutomaton[1].faults == 8)
        #expect(statistics.perAutomaton[0].alerts == 38)
        #expect(statistics.perAutomaton.allSatisfy { $0.runs == 70 })
    }

    @Test func windowLimitsThePages() {
        let (events, statistics) = events(jobs: 2, chunk: 8, window: 0x5000..<0x10_2800)
        // Pages 5..39 of the first range (35) and the first page of the second (0x101000).
        #expect(statistics.pages == 36)
        #expect(statistics.skippedBytes == 0x800 + 0x800)
        #expect(events.allSatisfy { event in
            switch event {
            case .finding(let f): return f.pageAddress >= 0x5000 && f.pageAddress < 0x10_2800
            case .fault(let f): return f.pageAddress >= 0x5000 && f.pageAddress < 0x10_2800
            }
        })
    }

    @Test func deviceTimeStampsByHand() throws {
        // Each run: intb (1 cycle, alert at run cycle 0), intq r0 (1). Each page: fetch 1703 first.
        let tiny = try Harness().automaton(".alert ONE, 1\n    intb $ONE\n    intq r0")
        let memory = BufferMemory([(0x2000, [UInt8](repeating: 0, count: 3 * 4096))])
        var findings: [Finding] = []
        // The pages are zero: the automaton runs on them only without the zero-page flag.
        let statistics = Scanner(automata: [tiny, tiny], options: ScanOptions(timing: .slidesPlain, jobs: 2, chunkPages: 1)).run(memory) {
            if case .finding(let f) = $0 { findings.append(f) }
        }
        // Page 0: fetch 1703, A at 1703, A' at 1705; page 1: fetch to 1707 + 1703 = 3410, ...
        #expect(findings.map(\.deviceCycle) == [1703, 1705, 3410, 3412, 5117, 5119])
        #expect(findings.map(\.pageAddress) == [0x2000, 0x2000, 0x3000, 0x3000, 0x4000, 0x4000])
        #expect(findings.allSatisfy { $0.name == "ONE" && $0.cycle == 0 && $0.pc == 0 })
        #expect(statistics.deviceCycles == 3 * 1703 + 6 * 2)
        #expect(statistics.fetchCycles == 3 * 1703)
        #expect(statistics.instructions == 12)
    }

    /// The same with the zero-page flag (`.slides`): the DMA finds each page zero, the
    /// recorded outcome is replayed at once: both alerts at the end of the page's fetch, no
    /// automata cycles, no instruction run.
    @Test func deviceTimeStampsByHandWithTheZeroPageFlag() throws {
        let tiny = try Harness().automaton(".alert ONE, 1\n    intb $ONE\n    intq r0")
        let memory = BufferMemory([(0x2000, [UInt8](repeating: 0, count: 3 * 4096))])
        var findings: [Finding] = []
        let statistics = Scanner(automata: [tiny, tiny], options: ScanOptions(timing: .slides, jobs: 2, chunkPages: 1)).run(memory) {
            if case .finding(let f) = $0 { findings.append(f) }
        }
        #expect(findings.map(\.deviceCycle) == [1703, 1703, 3406, 3406, 5109, 5109])
        #expect(findings.allSatisfy { $0.name == "ONE" && $0.cycle == 0 && $0.pc == 0 })
        #expect(statistics.deviceCycles == 3 * 1703 && statistics.mpuCycles == 0 && statistics.instructions == 0)
    }

    @Test func rawDumpMapsTheFile() throws {
        let path = try temporaryDirectory().appendingPathComponent("dump.raw").path
        var bytes = page { UInt64(0x20_0000 + $0 * 0x1000) | 7 }
        bytes += [UInt8](repeating: 0, count: 4096) + [1, 2, 3]
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let dump = try RawDump(path: path)
        var findings: [Finding] = []
        let statistics = Scanner(automata: [identity]).run(dump) { if case .finding(let f) = $0 { findings.append(f) } }
        #expect(findings.map(\.pageAddress) == [0])
        #expect(findings.first?.name == "EPT_IDENTITY_PT")
        #expect(statistics.pages == 2)
        #expect(statistics.skippedBytes == 3)
        #expect(throws: MappingError.self) { try RawDump(path: "/nonexistent/dump.raw") }
    }
}

@Suite struct ZeroPageReuseTests {
    /// Zero pages among others, two automata that ignore the address and one that reads it.
    @Test func sameResultsWithAndWithoutReuse() throws {
        let fixture = ScannerTests()
        let addressReader = try Harness().automaton("mloadq r1, $0\n loadw r9, $done\n equq r1, r0, r9\n intq r15\ndone:\n addq r2, r15, r0\n intq r2\n intq r0")
        var pieces: [(physicalStart: UInt64, bytes: [UInt8])] = [(0, [UInt8](repeating: 0, count: 16 * 4096))]
        pieces.append((0x10_0000, page { UInt64(0x20_0000 + $0 * 0x1000) | 7 }))
        let memory = BufferMemory(pieces)
        func scan(_ reuse: Bool, engine: Engine) -> ([ScanEvent], ScanStatistics) {
            var events: [ScanEvent] = []
            var statistics = Scanner(automata: [fixture.identity, fixture.probe, addressReader],
                                     options: ScanOptions(jobs: 2, chunkPages: 5, engine: engine, reuseZeroPageRuns: reuse)).run(memory) { events.append($0) }
            statistics.hostSeconds = 0
            return (events, statistics)
        }
        for engine in [Engine.interpreter, .compiled] {
            let (with, withStatistics) = scan(true, engine: engine)
            let (without, withoutStatistics) = scan(false, engine: engine)
            #expect(with == without)
            #expect(withStatistics == withoutStatistics)
            // The address reader raised each zero page's own address (twice: `intq r15`, then
            // `intq r2`; page 0's `int` of 0 ends its run): it was run, not reused.
            let addresses = with.compactMap { event -> UInt64? in
                if case .finding(let f) = event, f.automaton == 2 { return f.value } else { return nil }
            }
            var expected: [UInt64] = []
            for index in 1..<16 { expected += [UInt64(index * 4096), UInt64(index * 4096)] }
            expected.append(0x10_0000)
            #expect(addresses == expected)
        }
    }

    @Test func reuseIsOnlyForAddressFreeRuns() throws {
        let h = Harness()
        #expect(try h.automaton("intb $1\n intq r0").zeroPageResult(timing: .slides) != nil)
        #expect(try h.automaton("intq r15\n intq r0").zeroPageResult(timing: .slides) == nil)           // reads the address
        #expect(try h.automaton("loadq r15, $5\n intq r15\n intq r0").zeroPageResult(timing: .slides) != nil) // replaced first
        #expect(try h.automaton("loadd r15_1, $5\n intq r15\n intq r0").zeroPageResult(timing: .slides) == nil) // partly kept
        #expect(try h.automaton("mloadq r1, r15\n intq r0").zeroPageResult(timing: .slides) == nil)      // faults, naming r15
        #expect(try h.automaton("addq r2, r15, r0\n loadq r15, $5\n intq r0").zeroPageResult(timing: .slides) == nil) // read, then replaced
        #expect(try h.automaton("loadq r15, $5\n addq r2, r15, r0\n intq r0").zeroPageResult(timing: .slides) != nil) // replaced, then read
    }

    /// PageRunner (the checker's way in) gives what the interpreter gives, on zero pages and
    /// others, with every engine and with or without reuse.
    @Test func pageRunnerMatchesTheInterpreter() throws {
        let fixture = ScannerTests()
        let addressReader = try Harness().automaton("mloadq r1, $0\n loadw r9, $done\n equq r1, r0, r9\n intq r15\ndone:\n addq r2, r15, r0\n intq r2\n intq r0")
        let pages: [(address: UInt64, bytes: [UInt8])] = [(0x3000, [UInt8](repeating: 0, count: 4096)),
                                                          (0x10_0000, page { UInt64(0x20_0000 + $0 * 0x1000) | 7 })]
        for automaton in [fixture.identity, fixture.probe, addressReader] {
            for engine in [Engine.interpreter, .compiled] {
                for reuse in [false, true] {
                    let runner = try PageRunner(automaton, timing: .slidesPlain, engine: engine, reuseZeroPageRuns: reuse)
                    let other = PageRunner(sharing: runner)
                    #expect(runner.isCompiled == (engine == .compiled))
                    for (address, bytes) in pages {
                        bytes.withUnsafeBytes { raw in
                            var expectedAlerts: [Alert] = [], alerts: [Alert] = [], otherAlerts: [Alert] = []
                            let expected = MPU(timing: .slidesPlain).run(automaton, page: raw.baseAddress!, pageAddress: address, alerts: &expectedAlerts)
                            let zero = isZeroPage(raw.baseAddress!)
                            #expect(zero == (address == 0x3000))
                            #expect(runner.run(page: raw.baseAddress!, pageAddress: address, pageIsZero: zero, alerts: &alerts) == expected)
                            #expect(other.run(page: raw.baseAddress!, pageAddress: address, pageIsZero: zero, alerts: &otherAlerts) == expected)
                            #expect(alerts == expectedAlerts && otherAlerts == expectedAlerts)
                        }
                    }
                }
            }
        }
        // With the zero-page flag (.slides) a zero page costs nothing for an automaton that never
        // reads the page's address, reuse or not, its alerts at cycle 0; one that reads it
        // (addressReader) runs as always.
        let zeros = [UInt8](repeating: 0, count: 4096)
        for (automaton, readsAddress) in [(fixture.identity, false), (fixture.probe, false), (addressReader, true)] {
            let runner = try PageRunner(automaton, timing: .slides, engine: .compiled, reuseZeroPageRuns: false)
            zeros.withUnsafeBytes { raw in
                var alerts: [Alert] = [], ran: [Alert] = []
                let full = MPU(timing: .slides).run(automaton, page: raw.baseAddress!, pageAddress: 0x3000, alerts: &ran)
                let result = runner.run(page: raw.baseAddress!, pageAddress: 0x3000, pageIsZero: true, alerts: &alerts)
                #expect(result == (readsAddress ? full : RunResult()))
                #expect(alerts == (readsAddress ? ran : ran.map { Alert(value: $0.value, pc: $0.pc, cycle: 0) }))
            }
        }
    }
}
