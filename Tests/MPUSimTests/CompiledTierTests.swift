import Foundation
import MPUAsm
import MPUISA
@testable import MPUSim
import Synth
import Testing

/// The compiled tier must give exactly what the interpreter gives: events, device time
/// stamps, statistics, faults and the watchdog.
@Suite struct CompiledTierTests {
    /// Scans `memory` with `automata` on both engines and checks that everything matches.
    @discardableResult
    func compare(_ automata: [Automaton], _ memory: any PhysicalMemory, timing: TimingModel = .slides,
                 jobs: Int = 2) throws -> ([ScanEvent], ScanStatistics) {
        func scan(_ engine: Engine) throws -> ([ScanEvent], ScanStatistics) {
            let scanner = Scanner(automata: automata, options: ScanOptions(timing: timing, jobs: jobs, chunkPages: 3, engine: engine))
            let engines = try scanner.prepare()
            #expect(engines.compiledCount == (engine == .compiled ? automata.count : 0))
            var events: [ScanEvent] = []
            var statistics = scanner.run(memory, engines: engines) { events.append($0) }
            statistics.hostSeconds = 0
            return (events, statistics)
        }
        let interpreted = try scan(.interpreter)
        let compiled = try scan(.compiled)
        #expect(compiled.0 == interpreted.0)
        #expect(compiled.1 == interpreted.1)
        return compiled
    }

    func onePage(_ bytes: [UInt8]) -> BufferMemory { BufferMemory([(0x7000, bytes)]) }

    @Test func scannerFixtureMatches() throws {
        let fixture = ScannerTests()
        let (events, _) = try compare([fixture.identity, fixture.probe], fixture.memory())
        #expect(events.count > 40)
    }

    @Test(arguments: 0..<40)
    func randomProgramsMatch(seed: Int) throws {
        // The same generator as the reference-model test, with conditional jumps added.
        var random = SplitMix64(seed: UInt64(seed) &* 0x51ed)
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        var page = [UInt8](repeating: 0, count: 4096)
        for i in 0..<4096 { page[i] = UInt8(truncatingIfNeeded: random.next()) }
        var lines: [String] = ["    loadw r14, $done"]
        for _ in 0..<(20 + pick(40)) {
            let size = ["b", "w", "d", "q"][pick(4)]
            let slots = ["b": 8, "w": 4, "d": 2, "q": 1][size]!
            func register() -> String {
                let number = 1 + pick(13) // r14 holds the exit target, r15 the page base
                return pick(3) == 0 ? "r\(number)_\(pick(slots))" : "r\(number)"
            }
            switch pick(8) {
            case 0: lines.append("    load\(size) \(register()), $\(pick(200))")
            case 1: lines.append("    mov\(size) \(register()), \(register())")
            case 2: lines.append("    add\(size) \(register()), \(register()), \(register())")
            case 3: lines.append("    add\(size) \(register()), $\(pick(100))")
            case 4: lines.append("    hamm\(size) \(register()), \(register()), \(register()), \(register())")
            case 5: lines.append("    mload\(size) \(register()), $\(pick(4096 - 8))")
            case 6: lines.append("    int\(size) \(register())")
            default: lines.append("    equ\(size) \(register()), \(register()), r14")
            }
        }
        // Raise every non-zero register, so that the whole final state is compared.
        lines += ["done:", "    intq r15"]
        for n in 1...14 { lines += ["    loadw r15, $.skip\(n)", "    infq r0, r\(n), r15", "    intq r\(n)", ".skip\(n):"] }
        lines += ["    intq r0"]
        let automaton = try Harness().automaton(lines.joined(separator: "\n"))
        try compare([automaton], onePage(page), jobs: 1)
    }

    @Test func faultsAndBadJumpsYieldToTheInterpreter() throws {
        let page = [UInt8](repeating: 0x11, count: 4096)
        let sources = [
            "loadw r1, $0xffc\n mloadd r2, r1\n mloadq r2, r1\n intq r0",        // mload outside the page
            "loadw r1, $4\n loadw r2, $2\n equq r1, r2, r1\n intq r0",           // misaligned target
            "loadw r1, $0x800\n jmpw r1\n intq r0",                              // target beyond the program
            "loadb r1, $1",                                                       // runs off the end
            "mloadq r1, $0\n intq r1\n intq r1\n jmpw $0x400",                    // bad immediate target
        ]
        for source in sources {
            let (events, _) = try compare([try Harness().automaton(source)], onePage(page), jobs: 1)
            #expect(events.contains { if case .fault = $0 { true } else { false } }, "\(source)")
        }
    }

    @Test func manyAlertsInOneRunOverflowTheBufferExactly() throws {
        // 200 alerts from one run: more than the compiled code's buffer of 64.
        let source = """
                loadw r2, $200
                loadw r8, $loop
            loop:
                addq r1, $1
                intq r1
                equq r1, r2, r8
                intq r0
            """
        let (events, statistics) = try compare([try Harness().automaton(source)], onePage([UInt8](repeating: 0, count: 4096)), jobs: 1)
        #expect(events.count == 200)
        #expect(statistics.alerts == 200)
    }

    @Test func watchdogIsExact() throws {
        var timing = TimingModel.slides
        for budget: UInt64 in [1, 5, 6, 7, 100, 1001] {
            timing.watchdogCycles = budget
            let source = "loadw r8, $loop\n loadb r2, $3\nloop:\n    mloadq r3, $8\n addq r1, $1\n jmpw r8"
            let (events, _) = try compare([try Harness().automaton(source)], onePage([UInt8](repeating: 1, count: 4096)), timing: timing, jobs: 1)
            guard case .fault(let report) = events.first else { Issue.record("no fault at budget \(budget)"); continue }
            #expect(report.fault.kind == .watchdog)
        }
    }

    @Test func jumpingBackIntoThePrologueKeepsItsConstants() throws {
        // r3 and r4 are loaded by the prologue only (constants for the compiled code); the
        // loop jumps back to the prologue's start three times.
        let source = """
            start:
                loadw r3, $0x100
                loadw r4, $start
                loadw r6, $done
                addq r5, $1
                loadb r7, $3
                equq r5, r7, r4
                jmpw r6
            done:
                addq r9, r3, r5
                intq r9
                intq r0
            """
        let (events, _) = try compare([try Harness().automaton(source)], onePage([UInt8](repeating: 0, count: 4096)), jobs: 1)
        guard case .finding(let finding) = events.first else { Issue.record("no alert"); return }
        #expect(finding.value == 0x103)
    }

    @Test func wordTimingMatches() throws {
        let fixture = ScannerTests()
        try compare([fixture.identity, fixture.probe], fixture.memory(), timing: .word)
    }
}
