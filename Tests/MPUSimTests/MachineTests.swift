import MPUAsm
import MPUISA
import MPUSim
import Foundation
import Synth
import Testing

/// Assembles `source` and runs it over `page` (4096 bytes, zero-filled by default).
struct Harness {
    var timing = TimingModel.slides
    var page = [UInt8](repeating: 0, count: 4096)
    var pageAddress: UInt64 = 0x1234_5000

    func automaton(_ source: String) throws -> Automaton {
        let result = MPUAssembler.assemble(source: source, name: "test.s")
        let image = try #require(result.image, "\(result.diagnostics.map(\.headline))")
        return Automaton(image: image)
    }

    func run(_ source: String) throws -> (RunResult, [Alert]) {
        let automaton = try automaton(source)
        var alerts: [Alert] = []
        let result = page.withUnsafeBytes { MPU(timing: timing).run(automaton, page: $0.baseAddress!, pageAddress: pageAddress, alerts: &alerts) }
        return (result, alerts)
    }

    /// Runs `body`, then `intq rN` for each register asked; returns their values.
    func registers(_ body: String, _ numbers: [Int]) throws -> [UInt64] {
        let source = body + "\n" + numbers.map { "    intq r\($0)" }.joined(separator: "\n") + "\n    intq r0\n"
        let (result, alerts) = try run(source)
        #expect(result.fault == nil, "\(String(describing: result.fault))")
        // A zero register would end the run: callers ask only for non-zero ones.
        return alerts.map(\.value)
    }
}

@Suite struct InstructionSemanticsTests {
    let h = Harness()

    @Test func loadsZeroExtendAndQSignExtends() throws {
        #expect(try h.registers("""
                loadq r1, $-1
                loadb r1, $0x80
                loadq r2, $-2
                loadd r3, $0xffffffff
                loadw r4, $-1
            """, [1, 2, 3, 4]) == [0x80, 0xffff_ffff_ffff_fffe, 0xffff_ffff, 0xffff])
    }

    @Test func subRegisterWritesKeepTheRest() throws {
        let values = try h.registers("""
                loadd r6_0, $0xfffff000
                loadd r6_1, $0x0000000f
                loadq r7, $-1
                loadb r7_3, $0x12
                loadw r8, $0x1234
                movw r8_2, r8_0
                movb r9_7, r8_1
            """, [6, 7, 8, 9])
        let expected: [UInt64] = [0x0000_000f_ffff_f000, 0xffff_ffff_12ff_ffff, 0x0000_1234_0000_1234, 0x1200_0000_0000_0000]
        #expect(values == expected)
    }

    @Test func addWrapsAtItsWidth() throws {
        #expect(try h.registers("""
                loadb r1, $0xff
                loadb r2, $2
                addb r3, r1, r2
                addw r4, r1, r2
                loadq r5, $-1
                addd r5_1, $1
                addq r6, $-3
                addb r7_1, r1, r2
            """, [3, 4, 5, 6, 7]) == [1, 0x101, 0x0000_0000_ffff_ffff, 0xffff_ffff_ffff_fffd, 0x100])
    }

    @Test func hammCountsDifferingSelectedBits() throws {
        #expect(try h.registers("""
                loadd r1, $0xf0f0
                loadd r2, $0x0ff0
                loadq r3, $-1
                hammq r4, r1, r2, r3
                loadw r3, $0x0f00
                hammq r5, r1, r2, r3
                loadq r1, $-1
                hammq r6, r1, r0, r1
                hammb r7, r1, r0, r1
            """, [4, 5, 6, 7]) == [8, 4, 64, 8])
    }

    @Test func mloadReadsLittleEndianWordsAtPageOffsets() throws {
        var h = Harness()
        for i in 0..<16 { h.page[0x100 + i] = UInt8(0x10 + i) }
        h.page[4095] = 0xaa
        #expect(try h.registers("""
                loadw r2, $0x100
                mloadq r1, r2
                mloadd r3, $0x104
                mloadw r4, $0x101
                mloadb r5_2, $0xfff
            """, [1, 3, 4, 5]) == [0x1716_1514_1312_1110, 0x1716_1514, 0x1211, 0xaa_0000])
    }

    @Test func startStateHoldsThePageAddressAndCursor() throws {
        // r15 = page base; r1 = 0 (so int r1 would end the run: check it with equ instead).
        let (result, alerts) = try h.run("""
                loadw r9, $bad
                equq r1, r0, r9
                intq r15
                intq r0
            bad:
                intb $1
                intq r0
            """)
        #expect(result.fault == nil)
        #expect(alerts.map(\.value) == [0x1234_5000])
    }

    @Test func conditionalJumps() throws {
        // Each test jumps to `taken` (alert 1) or falls through (alert 2).
        func outcome(_ test: String) throws -> UInt64 {
            let (_, alerts) = try h.run("""
                    loadw r9, $taken
                    loadq r1, $0x1234
                    loadq r2, $0x1234
                    loadq r3, $0x1235
                    loadw r4, $0x0200
                    loadw r5, $0x0034
                    \(test)
                    intb $2
                    intq r0
                taken:
                    intb $1
                    intq r0
                """)
            return alerts.first!.value
        }
        #expect(try outcome("equq r1, r2, r9") == 2)
        #expect(try outcome("equq r1, r3, r9") == 1)
        #expect(try outcome("equb r1, r3_1, r9") == 1) // 0x34 vs 0x12
        #expect(try outcome("infq r1, r3, r9") == 2)    // 0x1234 < 0x1235: fall through
        #expect(try outcome("infq r3, r1, r9") == 1)    // >=: jump
        #expect(try outcome("infq r1, r2, r9") == 1)    // equal: jump
        #expect(try outcome("infb r3, r1, r9") == 1)    // 0x35 >= 0x34
        // mask: r1 = 0x1234 = 0b0001_0010_0011_0100.
        #expect(try outcome("maskq r1, r0, r5, r9") == 2)   // ones 0x34 all set, no zeros: passes
        #expect(try outcome("maskq r1, r4, r5, r9") == 1)   // bit 9 must be zero but is set
        #expect(try outcome("maskq r1, r0, r3, r9") == 1)   // ones 0x1235: bit 0 is clear
        #expect(try outcome("maskb r1, r4, r5, r9") == 2)   // at b, 0x200 is out of sight
        #expect(try outcome("jmpw r9") == 1)
        #expect(try outcome("jmpw $taken") == 1)
        // Comparisons are unsigned: -1 >= 1.
        #expect(try outcome("loadq r6, $-1\n loadb r7, $1\n infq r6, r7, r9") == 1)
    }

    @Test func r0StaysZero() throws {
        let (result, alerts) = try h.run("""
                loadq r0, $5
                addq r0, $1
                movq r1, r0
                loadw r9, $bad
                equq r0, r1, r9
                intb $7
                intq r0
            bad:
                intb $1
                intq r0
            """)
        #expect(result.fault == nil)
        #expect(alerts.map(\.value) == [7])
    }
}

@Suite struct CycleTests {
    @Test func cyclesPerInstructionInPageMode() throws {
        // slides preset: 1 cycle each, +1 for a taken jump, mload 1 + 1 buffer cycle.
        let (result, alerts) = try Harness().run("""
                loadw r1, $0x10     // 1
                mloadq r2, r1       // 2
                jmpw $next          // 2 (taken)
            next:
                loadw r9, $next     // 1
                equq r0, r0, r9     // 1 (not taken)
                intb $3             // 1
                intq r0             // 1
            """)
        #expect(result.fault == nil)
        #expect(result.instructions == 7)
        #expect(result.cycles == 9)
        #expect(result.hostReads == 1)
        // The alert's cycle is the cycle at which `int` began: 1 + 2 + 2 + 1 + 1 = 7.
        #expect(alerts == [Alert(value: 3, pc: 0x28, cycle: 7)])
    }

    @Test func mloadWaitsForPCIeInWordMode() throws {
        var h = Harness()
        h.timing = .word
        // 800 ns at 80 MHz = 64 cycles of wait.
        #expect(h.timing.pcieLatencyCycles == 64)
        let (result, _) = try h.run("mloadq r2, $0\n mloadb r2, $8\n intq r0")
        #expect(result.cycles == 65 + 65 + 1)
        #expect(result.hostReads == 2)
    }

    @Test func pageFetchCost() {
        // 800 ns = 64 cycles, then 4096 B at 200 MB/s = 20.48 us = 1638.4 -> 1639 cycles.
        #expect(TimingModel.slides.pageFetchCycles == 64 + 1639)
        #expect(TimingModel.word.pageFetchCycles == 0)
        // gen2x4: 600 ns at 125 MHz = 75 cycles; 4096 B at 1.6 GB/s = 2.56 us = 320 cycles.
        #expect(TimingModel.gen2x4.pageFetchCycles == 75 + 320)
    }

    @Test func identityAutomatonFullCycleCountByHand() throws {
        // A page that identity-maps 0x20_0000..0x3f_ffff with RWX + WB entries.
        var h = Harness()
        for i in 0..<512 {
            let entry = UInt64(0x20_0000 + i * 0x1000) | 0x37
            withUnsafeBytes(of: entry.littleEndian) { h.page.replaceSubrange((i * 8)..<(i * 8 + 8), with: $0) }
        }
        let source = try String(contentsOfFile: packageRoot + "/automata/ept-identity.s", encoding: .utf8)
        let (result, alerts) = try h.run(source)
        // Set-up: 8 loads (1 each) + mloadq (2) + mask (1, not taken) + add (1) + loadw (1) = 13 cycles,
        // 12 instructions. Loop body per entry 1..511: mloadq 2 + mask 1 + hamm 1 + equ 1 + add 1
        // + addw 1 + infw (taken 2, except the last: 1) = 9 cycles, 7 instructions.
        // End: intb 1 + intq 1.
        let loopCycles = 511 * 9 - 1
        #expect(result.fault == nil)
        #expect(result.instructions == UInt64(12 + 511 * 7 + 2))
        #expect(result.cycles == UInt64(13 + loopCycles + 2))
        #expect(result.hostReads == 512)
        #expect(alerts.map(\.value) == [0x10])
        #expect(alerts.first?.cycle == UInt64(13 + loopCycles))
    }

    @Test func identityAutomatonRejectsANearMiss() throws {
        var h = Harness()
        for i in 0..<512 {
            // Entry 300 maps a page one slot too far: addresses 0x12c000 and 0x12e000.
            let page = i >= 300 ? i + 1 : i
            let entry = UInt64(0x0 + page * 0x1000) | 0x7
            withUnsafeBytes(of: entry.littleEndian) { h.page.replaceSubrange((i * 8)..<(i * 8 + 8), with: $0) }
        }
        let source = try String(contentsOfFile: packageRoot + "/automata/ept-identity.s", encoding: .utf8)
        let (result, alerts) = try h.run(source)
        #expect(result.fault == nil)
        #expect(alerts.isEmpty)
        // It stops at entry 300: set-up, 299 full iterations, then mload, mask, hamm, equ (taken), intq r0.
        let expectedCycles: UInt64 = 13 + 299 * 9 + 2 + 1 + 1 + 2 + 1
        #expect(result.cycles == expectedCycles)
    }
}

@Suite struct FaultTests {
    let h = Harness()

    @Test func watchdogEndsAnEndlessLoop() throws {
        let (result, _) = try h.run("loop:\n    jmpw $loop")
        let fault = try #require(result.fault)
        #expect(fault.kind == .watchdog)
        #expect(fault.pc == 0)
        // Each jmp takes 2 cycles; the instruction that would start at 1,000,000 faults.
        #expect(fault.cycle == 1_000_000)
        #expect(result.instructions == 500_000)
    }

    @Test func mloadOutsideThePage() throws {
        let (result, _) = try h.run("loadw r1, $0xffc\n mloadd r2, r1\n mloadq r2, r1\n intq r0")
        #expect(result.fault == Fault(kind: .mloadOutsidePage, pc: 0x10, cycle: 3, detail: 0xffc))
        #expect(result.instructions == 2)
        let (huge, _) = try h.run("loadq r1, $-8\n mloadb r2, r1\n intq r0")
        #expect(huge.fault?.kind == .mloadOutsidePage)
        #expect(huge.fault?.detail == 0xffff_ffff_ffff_fff8)
    }

    @Test func jumpsOutsideTheProgram() throws {
        let (misaligned, _) = try h.run("loadw r1, $4\n jmpw r1\n intq r0")
        #expect(misaligned.fault == Fault(kind: .pcOutsideProgram, pc: 8, cycle: 1, detail: 4))
        let (beyond, _) = try h.run("loadw r1, $0x100\n equq r1, r0, r1\n intq r0")
        #expect(beyond.fault == Fault(kind: .pcOutsideProgram, pc: 8, cycle: 1, detail: 0x100))
        let (immediate, _) = try h.run("jmpw $0x100\n intq r0")
        #expect(immediate.fault == Fault(kind: .pcOutsideProgram, pc: 0, cycle: 0, detail: 0x100))
        let (fellOff, _) = try h.run("loadb r1, $1")
        #expect(fellOff.fault == Fault(kind: .pcOutsideProgram, pc: 8, cycle: 1, detail: nil))
    }

    /// An entry past the code, as the checker's ENTRY register allows (found by the soc fuzz
    /// target: building the automaton cut its prologue out of range): the run faults at once.
    @Test func entryPastTheCode() throws {
        let image = MPUImage(entry: 0x100, code: [0xe2, 0x10, 0, 0, 0, 0, 0, 1, 0xc3, 0, 0, 0, 0, 0, 0, 0])   // loadw r1, $1 ; intq r0
        let automaton = Automaton(image: image, name: "far")
        var alerts: [Alert] = []
        let page = [UInt8](repeating: 0, count: 4096)
        let result = page.withUnsafeBytes { MPU().run(automaton, page: $0.baseAddress!, pageAddress: 0, alerts: &alerts) }
        #expect(result.fault?.kind == .pcOutsideProgram && result.instructions == 0)
    }

    @Test func undefinedInstruction() throws {
        // An image whose second word has opcode 0x7, built directly (mpuas would refuse it).
        let image = MPUImage(code: [0xe2, 0x10, 0, 0, 0, 0, 0, 1, 0x70, 0, 0, 0, 0, 0, 0, 0x2a])
        let automaton = Automaton(image: image, name: "bad")
        var alerts: [Alert] = []
        let page = [UInt8](repeating: 0, count: 4096)
        let result = page.withUnsafeBytes { MPU().run(automaton, page: $0.baseAddress!, pageAddress: 0, alerts: &alerts) }
        #expect(result.fault == Fault(kind: .undefinedInstruction, pc: 8, cycle: 1, detail: 0x7000_0000_0000_002a))
    }
}

@Suite struct HammingTests {
    /// The slides' C loop, as the independent reference.
    func slidesHamdist(_ x: UInt64, _ y: UInt64, _ bs: UInt64) -> UInt64 {
        var dist: UInt64 = 0
        var val = (x & bs) ^ (y & bs)
        while val != 0 {
            dist += 1
            val &= val - 1
        }
        return dist
    }

    @Test func hammMatchesTheSlidesCLoopOnRandomOperands() throws {
        var generator = SplitMix64(seed: 42)
        var h = Harness()
        var source = ""
        var expected: [UInt64] = []
        for i in 0..<64 {
            let x = generator.next(), y = generator.next(), bs = generator.next()
            for (k, value) in [x, y, bs].enumerated() {
                withUnsafeBytes(of: value.littleEndian) { h.page.replaceSubrange((i * 24 + k * 8)..<(i * 24 + k * 8 + 8), with: $0) }
            }
            source += "    mloadq r2, $\(i * 24)\n    mloadq r3, $\(i * 24 + 8)\n    mloadq r4, $\(i * 24 + 16)\n"
            source += "    hammq r5, r2, r3, r4\n    addq r5, $0x100\n    intq r5\n"
            expected.append(slidesHamdist(x, y, bs) + 0x100)
        }
        let (result, alerts) = try h.run(source + "    intq r0\n")
        #expect(result.fault == nil)
        #expect(alerts.map(\.value) == expected)
    }
}


let packageRoot: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
    return path
}()

@Suite struct CycleTableTests {
    /// Every opcode, format and size, alone between `loadw r9, $next` (1 cycle) and
    /// `next: intq r0` (1 cycle), against the table in docs/timing.md: 1 cycle, +1 for a taken
    /// jump, mload 1 + 1 (page buffer).
    @Test(arguments: ["b", "w", "d", "q"])
    func everyInstructionAtEverySize(size: String) throws {
        let cases: [(String, UInt64)] = [
            ("load\(size) r1, $1", 1), ("mov\(size) r2, r1", 1), ("add\(size) r2, r1, r1", 1), ("add\(size) r2, $1", 1),
            ("hamm\(size) r2, r1, r1, r1", 1), ("mload\(size) r2, $0", 2), ("mload\(size) r2, r3", 2), ("int\(size) $5", 1),
            ("equ\(size) r0, r0, r9", 1),            // equal: falls through
            ("inf\(size) r0, r0, r9", 2),            // 0 >= 0: taken
            ("inf\(size) r0, r9, r9", 1),            // 0 < 0x10: falls through
            ("mask\(size) r0, r0, r0, r9", 1),       // nothing required: passes, falls through
            ("mask\(size) r9, r9, r0, r9", 2),       // 0x10's bits must be zero: taken
            ("jmp\(size) r9", 2), ("jmp\(size) $next", 2),
        ]
        for (instruction, cost) in cases {
            let (result, _) = try Harness().run("    loadw r9, $next\n    \(instruction)\nnext:\n    intq r0")
            #expect(result.fault == nil, "\(instruction)")
            #expect(result.cycles == 1 + cost + 1, "\(instruction)")
            #expect(result.instructions == 3, "\(instruction)")
        }
    }
}

@Suite struct RobustnessTests {
    /// Mangled sources never crash the assembler: they assemble or report located errors.
    @Test func mangledSourcesGetDiagnosticsNotCrashes() throws {
        let seed = try String(contentsOfFile: packageRoot + "/automata/ept-identity.s", encoding: .utf8)
        var random = SplitMix64(seed: 99)
        let pieces = ["$", ",", "r", "r99", "r6_9", ":", "(", ")", "<<", "0x", "'", "\"", ".equ", ".include", ".if", "//", "\u{e9}", "\t", "-", "~", "999999999999999999999", "loadq", "_"]
        for _ in 0..<300 {
            var scalars = Array(seed.unicodeScalars)
            for _ in 0..<(1 + Int(random.next() % 6)) {
                let at = Int(random.next() % UInt64(scalars.count))
                if random.next() % 2 == 0 {
                    scalars.insert(contentsOf: pieces[Int(random.next() % UInt64(pieces.count))].unicodeScalars, at: at)
                } else {
                    scalars.removeSubrange(at..<min(scalars.count, at + Int(random.next() % 8)))
                }
            }
            let source = String(String.UnicodeScalarView(scalars))
            let result = MPUAssembler.assemble(source: source, name: "mangled.s")
            #expect(result.image != nil || result.errorCount > 0)
            for diagnostic in result.diagnostics where diagnostic.severity == .error {
                #expect(diagnostic.location != nil)
                _ = diagnostic.rendered()
            }
        }
    }

    /// Corrupted images are rejected with an offset, never a crash; those that parse run.
    @Test func corruptedImagesAreRejectedOrRun() throws {
        let image = try Harness().automaton(String(contentsOfFile: packageRoot + "/automata/ept-identity.s", encoding: .utf8)).image
        let bytes = image.serialized()
        var random = SplitMix64(seed: 5)
        let page = [UInt8](repeating: 0xff, count: 4096)
        for round in 0..<2000 {
            var mangled = bytes
            switch round % 3 {
            case 0: mangled[Int(random.next() % UInt64(mangled.count))] ^= UInt8(1 << (random.next() % 8))
            case 1: mangled.removeLast(Int(random.next() % UInt64(mangled.count)))
            default:
                // Change a byte and reseal the checksum, so the structure checks are what answer.
                mangled[Int(random.next() % UInt64(mangled.count - 4))] = UInt8(truncatingIfNeeded: random.next())
                let crc = CRC32.checksum(mangled.dropLast(4))
                mangled.replaceSubrange((mangled.count - 4)..., with: [UInt8(crc >> 24), UInt8((crc >> 16) & 0xff), UInt8((crc >> 8) & 0xff), UInt8(crc & 0xff)])
            }
            do {
                let parsed = try MPUImage(parsing: mangled)
                var alerts: [Alert] = []
                _ = page.withUnsafeBytes { MPU().run(Automaton(image: parsed), page: $0.baseAddress!, pageAddress: 0, alerts: &alerts) }
            } catch {
                #expect(error.offset >= 0 && error.offset <= mangled.count)
            }
        }
    }
}
