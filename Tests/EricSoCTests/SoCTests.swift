import ELF32
import EricSoC
import LM32Asm
import LM32Sim
import MPUAsm
import MPUSim
import Testing

/// The SoC wired together: firmware in ROM talking to the devices, interrupts delivered.
@Suite struct SoCTests {
    static func boot(_ source: String, host: any PhysicalMemory = BufferMemory([])) throws -> (SoC, () -> String) {
        let result = LM32Assembler.assemble(source: source, name: "fw.S")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map { $0.rendered() })")
        let firmware = try ELF32File(parsing: try #require(result.program).elf())
        final class Console: @unchecked Sendable { var bytes: [UInt8] = [] }
        let console = Console()
        let soc = try SoC(firmware: firmware, host: host, console: { console.bytes.append($0) })
        return (soc, { String(decoding: console.bytes, as: UTF8.self) })
    }

    @Test func firmwareWritesTheConsoleAndShutsDown() throws {
        let (soc, console) = try Self.boot("""
            _start:
                mvhi r1, hi(0xe0000000)
                mvi r2, 'O'
                sw (r1+0), r2
                mvi r2, 'K'
                sw (r1+0), r2
                mvhi r3, hi(0xe0001000)
                ori r3, r3, lo(0xe0001000)
                mvi r2, 0x0e
                sw (r3+0x40), r2            # ICAP: shut down
            1:  bi 1b
            """)
        #expect(soc.run(budget: 1000) == .shutdown)
        #expect(console() == "OK")
        #expect(soc.uart.read(0x08, size: 4) == 5)                  // THRE | TX_EVT
    }

    @Test func timerInterruptIsTakenWhenTheTimerHits() throws {
        let (soc, console) = try Self.boot("""
            _start:
                bi main
                .align 32
                .space 0xc0 - 32                # up to EBA + 6 x 32: the interrupt vector
            interrupt:
                rcsr r5, CC
                mvhi r3, hi(0xe0000000)
                mvi r2, 'T'
                sw (r3+0), r2
                mvi r2, 0x0e
                sw (r4+0x40), r2                # r4 = sysctl: shut down
            1:  bi 1b
            main:
                mvhi r4, hi(0xe0001000)
                ori r4, r4, lo(0xe0001000)
                mvi r2, 1000
                sw (r4+0x14), r2                # TIMER0_COMPARE
                sw (r4+0x18), r0                # TIMER0_COUNTER
                mvi r2, 4
                wcsr IM, r2                     # line 2: timer 0
                mvi r2, 1
                wcsr IE, r2
                sw (r4+0x10), r2                # ENABLE
                rcsr r6, CC
            2:  bi 2b
            """)
        #expect(soc.run(budget: 100_000) == .shutdown)
        #expect(console() == "T")
        let started = soc.cpu.registers[6], handled = soc.cpu.registers[5]
        #expect(soc.cpu.lastException == .interrupt)
        // The timer counts 1000 cycles from the ENABLE store; the handler runs a few cycles
        // after (the loop's branch, exception entry, the pipeline refill).
        #expect(handled >= started + 1000 - 2 && handled <= started + 1000 + 12, "started \(started), handled \(handled)")
        #expect(soc.cpu.ip & 4 != 0)                                  // latched, not yet cleared
    }

    /// Firmware that loads an automaton into the checker, runs it on a page of the dump by
    /// polling STATUS, and prints each alert value as a digit: the MPU's ints reach the LM32.
    @Test func firmwareDrivesTheCheckerOverHostMemory() throws {
        let mpu = try #require(MPUAssembler.assemble(source: "    intb $5\n    intb $7\n    intq r0\n").image)
        let words = stride(from: 0, to: mpu.code.count, by: 4).map { i in
            "    .word 0x" + String(mpu.code[i..<i + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }, radix: 16)
        }
        // Not a zero page: on one, the zero-page flag would skip the run (docs/timing.md).
        let host = BufferMemory([(physicalStart: 0x7000_0000, bytes: [UInt8](repeating: 1, count: 4096))])
        let (soc, console) = try Self.boot("""
            _start:
                mvhi r1, hi(0xe0009000)
                ori r1, r1, lo(0xe0009000)      # checker
                mvhi r3, hi(0xe0000000)         # UART
                sw (r1+0x1c), r0                # PROGRAM_ADDRESS = 0
                mvhi r4, hi(code)
                ori r4, r4, lo(code)
                mvi r5, \(words.count)
            1:  lw r6, (r4+0)
                sw (r1+0x20), r6                # PROGRAM_DATA
                addi r4, r4, 4
                addi r5, r5, -1
                bne r5, r0, 1b
                mvhi r2, 0x7000
                sw (r1+0x10), r2                # PAGE_LO = 0x70000000
                mvi r2, 1
                sw (r1+0x00), r2                # START
            2:  lw r2, (r1+0x04)                # STATUS
                andi r7, r2, 4
                be r7, r0, 3f
                lw r8, (r1+0x24)                # ALERT_LO
                addi r8, r8, '0'
                sw (r3+0), r8
                sw (r1+0x2c), r0                # ALERT_POP
                bi 2b
            3:  andi r7, r2, 2
                be r7, r0, 2b                   # not DONE yet
                mvhi r4, hi(0xe0001000)
                ori r4, r4, lo(0xe0001000)
                mvi r2, 0x0e
                sw (r4+0x40), r2                # shut down
            4:  bi 4b
                .align 4
            code:
            \(words.joined(separator: "\n"))
            """, host: host)
        #expect(soc.run(budget: 1_000_000) == .shutdown)
        #expect(console() == "57")
        #expect(soc.checker.read(0x30, size: 4) == 1706)               // 1703 page fetch + 3 cycles
        #expect(soc.cpu.cycles > 1706)
    }

    /// IDLE skips the clock to the next event that raises an unmasked line, even with IE off,
    /// and reports a firmware that sleeps with nothing able to wake it.
    @Test func idleSleepsUntilTheNextEvent() throws {
        let program = """
            _start:
                mvhi r4, hi(0xe0001000)
                ori r4, r4, lo(0xe0001000)
                mvhi r2, 1                      # COMPARE = 0x10000 cycles
                sw (r4+0x14), r2
                sw (r4+0x18), r0
                mvi r2, MASK
                wcsr IM, r2
                mvi r2, 1
                sw (r4+0x10), r2                # ENABLE timer 0
                rcsr r6, CC
                sw (r4+0x60), r0                # IDLE (IE is 0)
                rcsr r5, CC
                mvi r2, 0x0e
                sw (r4+0x40), r2
            1:  bi 1b
            """
        let (soc, _) = try Self.boot(".equ MASK, 4\n" + program)
        #expect(soc.run(budget: 10_000) == .shutdown)
        let slept = soc.cpu.registers[5] - soc.cpu.registers[6]
        #expect(slept >= 0x10000 && slept < 0x10000 + 20, "\(slept)")
        #expect(soc.idleCycles > 0xff00 && soc.cpu.instructions < 30)
        let (masked, _) = try Self.boot(".equ MASK, 0\n" + program)     // the timer's line is masked
        #expect(masked.run(budget: 10_000) == .asleep)
    }
}
