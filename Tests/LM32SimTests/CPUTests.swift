import LM32ISA
import LM32Sim
import Testing

/// A CPU with 64 KiB of RAM at 0 holding `program` (words, big-endian), EBA = DEBA = 0x1000.
func machine(_ program: [UInt32], ram: Int = 0x10000) throws -> LM32CPU {
    let bus = Bus()
    let memory = Memory(size: ram)
    memory.load(program.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> UInt32(24 - 8 * $0)) } }, at: 0)
    try bus.attach(memory, at: 0, size: UInt32(ram), name: "ram")
    let cpu = LM32CPU(bus: bus)
    cpu.eba = 0x1000
    cpu.deba = 0x1000
    return cpu
}

func rr(_ op: UInt8, _ x: UInt8, _ y: UInt8, _ z: UInt8) -> UInt32 { LM32Instruction.registers(op, rX: x, rY: y, rZ: z).word }
func ri(_ op: UInt8, _ x: UInt8, _ y: UInt8, _ imm: UInt16) -> UInt32 { LM32Instruction.immediate(op, rX: x, rY: y, imm16: imm).word }

@Suite struct InstructionTests {
    @Test func arithmeticAndShiftsByMoreThan31() throws {
        let cpu = try machine([
            rr(0x2d, 3, 1, 2),      // add r3,r1,r2
            rr(0x32, 4, 1, 2),      // sub r4,r1,r2
            rr(0x2f, 5, 1, 6),      // sl r5,r1,r6    (r6 = 33: shifts by 1)
            rr(0x25, 7, 8, 6),      // sr r7,r8,r6    (arithmetic)
            rr(0x20, 9, 8, 6),      // sru r9,r8,r6   (logical)
            rr(0x22, 10, 8, 1),     // mul r10,r8,r1  (low 32 bits)
            ri(0x0f, 11, 1, 33),    // sli r11,r1,33  (bits 4:0 only: 1)
        ])
        cpu.registers[1] = 5
        cpu.registers[2] = 7
        cpu.registers[6] = 33
        cpu.registers[8] = 0x8000_0010
        #expect(cpu.run(budget: 7) == .budget)
        #expect(cpu.registers[3] == 12)
        #expect(cpu.registers[4] == 0xffff_fffe)
        #expect(cpu.registers[5] == 10)
        #expect(cpu.registers[7] == 0xc000_0008)
        #expect(cpu.registers[9] == 0x4000_0008)
        #expect(cpu.registers[10] == 0x8000_0050)
        #expect(cpu.registers[11] == 10)
    }

    @Test func immediateExtensionOfEachKind() throws {
        let cpu = try machine([
            ri(0x0d, 2, 0, 0xffff),     // addi r2,r0,-1      sign
            ri(0x08, 3, 1, 0xffff),     // andi r3,r1,0xffff  zero
            ri(0x18, 4, 1, 0x8000),     // andhi r4,r1,0x8000 high half
            ri(0x1b, 5, 1, 0x8000),     // cmpgei r5,r1,-32768 signed: -1 >= -32768
            ri(0x1c, 6, 1, 0x8000),     // cmpgeui r6,r1,0x8000 unsigned: 0xffffffff >= 0x8000
            ri(0x1d, 7, 0, 0xffff),     // cmpgui r7,r0,0xffff: 0 > 0xffff? no
            ri(0x1a, 8, 0, 0xffff),     // cmpgi r8,r0,-1: 0 > -1
            ri(0x02, 9, 1, 0xfffe),     // muli r9,r1,-2: -1 * -2 = 2
        ])
        cpu.registers[1] = 0xffff_ffff
        #expect(cpu.run(budget: 8) == .budget)
        #expect(cpu.registers[2] == 0xffff_ffff)
        #expect(cpu.registers[3] == 0x0000_ffff)
        #expect(cpu.registers[4] == 0x8000_0000)
        #expect(cpu.registers[5] == 1)
        #expect(cpu.registers[6] == 1)
        #expect(cpu.registers[7] == 0)
        #expect(cpu.registers[8] == 1)
        #expect(cpu.registers[9] == 2)
    }

    @Test func loadsAndStoresAreBigEndian() throws {
        let cpu = try machine([
            ri(0x16, 2, 1, 0),          // sw (r1+0),r2
            ri(0x04, 3, 1, 0),          // lb r3,(r1+0)    0x81 sign-extended
            ri(0x10, 4, 1, 0),          // lbu r4,(r1+0)
            ri(0x07, 5, 1, 2),          // lh r5,(r1+2)    0x8384
            ri(0x0b, 6, 1, 2),          // lhu r6,(r1+2)
            ri(0x0c, 2, 1, 5),          // sb (r1+5),r2    low byte 0x84
            ri(0x0a, 7, 1, 4),          // lw r7,(r1+4)
            ri(0x03, 2, 1, 0xfffe),     // sh (r1+-2),r2
            ri(0x0a, 8, 1, 0xfffc),     // lw r8,(r1+-4)
        ])
        cpu.registers[1] = 0x800
        cpu.registers[2] = 0x8182_8384
        #expect(cpu.run(budget: 9) == .budget)
        #expect(cpu.registers[3] == 0xffff_ff81)
        #expect(cpu.registers[4] == 0x81)
        #expect(cpu.registers[5] == 0xffff_8384)
        #expect(cpu.registers[6] == 0x8384)
        #expect(cpu.registers[7] == 0x0084_0000)
        #expect(cpu.registers[8] == 0x0000_8384)
    }

    /// The CPU keeps views of the last two memories data accesses hit (the firmware alternates
    /// between its RAM and a buffer memory): loads and stores land in the right one whatever
    /// the order, and a store into the code's memory after a switch still drops the decoded
    /// instruction it overwrites.
    @Test func alternatingBetweenTwoMemoriesKeepsEachInPlace() throws {
        let cpu = try machine([
            ri(0x0d, 9, 0, 1),          // 0x00 addi r9,r0,1 (rewritten below, then run again)
            ri(0x16, 2, 1, 0),          // 0x04 sw (r1+0),r2     the buffer memory
            ri(0x16, 4, 3, 0),          // 0x08 sw (r3+0),r4     RAM
            ri(0x0a, 5, 1, 0),          // 0x0c lw r5,(r1+0)
            ri(0x0a, 6, 3, 0),          // 0x10 lw r6,(r3+0)
            ri(0x0a, 10, 1, 0),         // 0x14 lw r10,(r1+0)    the buffer again: RAM becomes the other view
            ri(0x16, 8, 0, 0),          // 0x18 sw (r0+0),r8     into the code, through the other view
            0xe3ff_fff9,                // 0x1c bi 0x00 (imm26 -7 words)
        ])
        let buffer = Memory(size: 0x1000)
        try cpu.bus.attach(buffer, at: 0x2000_0000, size: 0x1000, name: "buffer")
        cpu.registers[1] = 0x2000_0000
        cpu.registers[2] = 0x1111_1111
        cpu.registers[3] = 0x800
        cpu.registers[4] = 0x2222_2222
        cpu.registers[8] = ri(0x0d, 9, 0, 42)                           // addi r9,r0,42
        #expect(cpu.run(budget: 9) == .budget)                           // through the rewritten 0x00
        #expect(cpu.registers[5] == 0x1111_1111 && cpu.registers[6] == 0x2222_2222 && cpu.registers[10] == 0x1111_1111)
        #expect(buffer.read(0, size: 4) == 0x1111_1111 && cpu.bus.read(0x800, size: 4)?.0 == 0x2222_2222)
        #expect(cpu.registers[9] == 42)
    }

    @Test func branchOffsetsFromTheBranchAtTheirLimits() throws {
        let program = (0..<0x8000).map { _ in UInt32(0x3400_0000) }     // nops
        // be r1,r1 (taken) with imm16 0x7fff and 0x8000; bi with imm26 at both ends; at 0x10000.
        let cases: [(UInt32, Int64)] = [(0x4421_7fff, 0x10000 + 0x1_fffc), (0x4421_8000, 0x10000 - 0x2_0000),
                                        (0xe1ff_ffff, 0x10000 + 0x7ff_fffc), (0xe200_0000, 0x10000 - 0x800_0000)]
        for (word, signedTarget) in cases {
            let target = UInt32(truncatingIfNeeded: signedTarget)
            var words = program
            words[0x10000 / 4] = word
            let cpu = try machine(words, ram: 0x20000)
            cpu.pc = 0x10000
            cpu.registers[1] = 0
            cpu.step()
            #expect(cpu.pc == target, "0x\(String(word, radix: 16))")
        }
    }

    @Test func callsAndReturns() throws {
        let cpu = try machine([
            0xf800_0003,                // calli +12 (to 0xc)
            rr(0x2d, 2, 2, 2),          // 0x4: add r2,r2,r2 (after return)
            0x3400_0000,                // 0x8: nop
            ri(0x0d, 2, 0, 21),         // 0xc: mvi r2,21
            0xc3a0_0000,                // 0x10: ret
        ])
        #expect(cpu.run(budget: 4) == .budget)
        #expect(cpu.registers[29] == 4)
        #expect(cpu.registers[2] == 42)
        #expect(cpu.pc == 8)
    }

    @Test func r0IsWritableAsInTheRTL() throws {
        let cpu = try machine([ri(0x0d, 0, 0, 5)])   // addi r0,r0,5
        cpu.step()
        #expect(cpu.registers[0] == 5)
    }
}

@Suite struct ExceptionTests {
    @Test func divideByZero() throws {
        let cpu = try machine([0x3400_0000, rr(0x23, 3, 1, 2)])   // nop; divu r3,r1,r2
        cpu.registers[1] = 10
        cpu.ie = 1
        cpu.step()
        cpu.step()
        #expect(cpu.lastException == .divideByZero)
        #expect(cpu.pc == 0x1000 + 5 * 32)
        #expect(cpu.registers[30] == 4)       // ea: the divu itself
        #expect(cpu.ie == 0b010)              // EIE <- IE, IE <- 0
    }

    @Test func scallSavesItsOwnAddress() throws {
        let cpu = try machine([0x3400_0000, 0x3400_0000, 0xac00_0007])
        _ = cpu.run(budget: 3)
        #expect(cpu.lastException == .systemCall)
        #expect(cpu.registers[30] == 8)
        #expect(cpu.pc == 0x1000 + 7 * 32)
    }

    @Test func breakGoesToDEBAAndSavesBA() throws {
        let cpu = try machine([0xac00_0002])
        cpu.deba = 0x2000
        cpu.ie = 1
        cpu.step()
        #expect(cpu.registers[31] == 0)
        #expect(cpu.pc == 0x2000 + 32)
        #expect(cpu.ie == 0b100)              // BIE <- IE (RTL test_break: IE 1 -> 4)
    }

    @Test func eretAndBretRestoreIEAsTheRTLDoes() throws {
        // RTL test_eret: IE = 2, eret -> IE reads 3 (EIE kept). test_bret: IE = 4 -> 5.
        let eret = try machine([0xc3c0_0000])
        eret.ie = 2
        eret.registers[30] = 0x40
        eret.step()
        #expect(eret.ie == 3)
        #expect(eret.pc == 0x40)
        let bret = try machine([0xc3e0_0000])
        bret.ie = 4
        bret.registers[31] = 0x80
        bret.step()
        #expect(bret.ie == 5)
        #expect(bret.pc == 0x80)
    }

    @Test func interruptsAreLatchedAndClearedByWritingOne() throws {
        let cpu = try machine([0x3400_0000, 0x3400_0000, 0x3400_0000])
        cpu.im = 1 << 3
        cpu.interruptLines = 1 << 3        // a pulse...
        cpu.step()                           // IE is 0: not taken, but latched
        cpu.interruptLines = 0
        #expect(cpu.ip == 1 << 3)
        cpu.ie = 1
        cpu.step()
        #expect(cpu.lastException == .interrupt)
        #expect(cpu.registers[30] == 4)       // ea: the next instruction, not executed
        #expect(cpu.pc == 0x1000 + 6 * 32)
        cpu.writeCSR(0x02, 1 << 3)           // wcsr IP: write one to clear
        #expect(cpu.ip == 0)
    }

    @Test func busErrors() throws {
        let cpu = try machine([ri(0x0a, 2, 1, 0), ri(0x0a, 2, 3, 0)])
        cpu.registers[1] = 0x4_0000          // nothing there
        cpu.step()
        #expect(cpu.lastException == .dataBusError)
        #expect(cpu.registers[30] == 0)
        let misaligned = try machine([ri(0x0a, 2, 1, 0)])
        misaligned.registers[1] = 2
        misaligned.step()
        #expect(misaligned.lastException == .dataBusError)
        let fetch = try machine([])
        fetch.pc = 0x8_0000
        fetch.step()
        #expect(fetch.lastException == .instructionBusError)
        #expect(fetch.pc == 0x1000 + 2 * 32)
    }

    @Test func reservedOpcodesAndUserStopTheSimulation() throws {
        for word: UInt32 in [0x9c00_0000, 0xa800_0000, 0xd400_0000, 0xcc43_0fff, 0xac00_0003] {
            let cpu = try machine([word])
            #expect(cpu.step() == .illegalInstruction(pc: 0, word: word))
        }
    }

    @Test func hardwareBreakpoint() throws {
        let cpu = try machine([0x3400_0000, 0x3400_0000])
        cpu.writeCSR(0x10, 4 | 1)            // BP0 at 4, enabled
        cpu.step()
        cpu.step()
        #expect(cpu.lastException == .breakpoint)
        #expect(cpu.registers[31] == 4)
    }
}

@Suite struct BusTests {
    @Test func overlappingDevicesAreRefused() throws {
        let bus = Bus()
        try bus.attach(Memory(size: 0x1000), at: 0x1000, size: 0x1000, name: "a")
        #expect(throws: BusError.self) { try bus.attach(Memory(size: 0x1000), at: 0x1800, size: 0x1000, name: "b") }
        #expect(throws: BusError.self) { try bus.attach(Memory(size: 0x2000), at: 0x0, size: 0x3000, name: "c") }
        try bus.attach(Memory(size: 0x1000), at: 0x2000, size: 0x1000, name: "d")
        #expect(bus.mappings.map(\.name) == ["a", "d"])
        #expect(bus.mapping(at: 0x2fff)?.name == "d")
        #expect(bus.mapping(at: 0x3000) == nil)
    }

    @Test func csrsReadBack() throws {
        let cpu = try machine([])
        #expect(cpu.readCSR(0x06) == 0x0d12_0037)   // CFG: M D S X CC, 32 IRQs, 4 BP, 4 WP, rev 3
        cpu.writeCSR(0x0e, 0x41)
        #expect(cpu.jtagOutput == [0x41])
    }
}

@Suite struct ExecutedInstructionTests {
    /// The fuzz targets' firmware coverage: the words that ran, not those branched over, and
    /// nothing once the memory was written from outside (the decoded code is dropped then).
    @Test func onlyTheWordsThatRanAreReported() throws {
        let cpu = try machine([
            ri(0x0d, 1, 0, 1),      // 0x0: addi r1,r0,1
            ri(0x11, 0, 0, 2),      // 0x4: be r0,r0,0xc (2 words on)
            ri(0x0d, 2, 0, 2),      // 0x8: addi r2,r0,2  (branched over)
            ri(0x0d, 3, 0, 3),      // 0xc: addi r3,r0,3
        ])
        #expect(cpu.run(budget: 3) == .budget)
        #expect(cpu.registers[2] == 0 && cpu.registers[3] == 3)
        var ran: [UInt32] = []
        cpu.forEachExecutedInstruction(in: 0..<0x10) { ran.append($0) }
        #expect(ran == [0x0, 0x4, 0xc])
        ran = []
        cpu.forEachExecutedInstruction(in: 0x6..<0x0d) { ran.append($0) }   // a range cut inside words
        #expect(ran == [0x4, 0xc])
        ran = []
        cpu.forEachExecutedInstruction(in: 0xffff_fff0..<UInt32.max) { ran.append($0) }   // outside the code: nothing, no wrap
        #expect(ran.isEmpty)
        _ = cpu.bus.write(0x8, size: 4, value: 0)
        cpu.forEachExecutedInstruction(in: 0..<0x10) { ran.append($0) }
        #expect(ran.isEmpty)
    }
}
