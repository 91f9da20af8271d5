import LM32ISA
import LM32Sim
import Testing

/// The interpreter runs ordinary instructions in bursts with its state in locals, and finishes
/// anything rare on the object; a debugger's watchpoints or single steps make every instruction
/// take the object's path. Both paths must give the same machine, cycle for cycle.
@Suite struct InterpreterPathsTests {
    /// A loop with loads and stores of every size, a call and return, a multiply and a divide.
    static let loop: [UInt32] = [
        ri(0x0d, 1, 0, 50),                                         // 0x00 mvi r1, 50
        ri(0x0d, 5, 0, 0x800),                                      // 0x04 mvi r5, 0x800
        ri(0x0a, 2, 5, 0),                                          // 0x08 L: lw r2, (r5+0)
        ri(0x0d, 2, 2, 3),                                          // 0x0c addi r2, r2, 3
        LM32Instruction.immediate(0x16, rX: 2, rY: 5, imm16: 0).word, // 0x10 sw (r5+0), r2
        rr(0x22, 3, 2, 1),                                          // 0x14 mul r3, r2, r1
        rr(0x23, 4, 3, 1),                                          // 0x18 divu r4, r3, r1
        LM32Instruction.immediate(0x0c, rX: 4, rY: 5, imm16: 5).word, // 0x1c sb (r5+5), r4
        ri(0x10, 6, 5, 5),                                          // 0x20 lbu r6, (r5+5)
        0xf800_0003,                                                // 0x24 calli 0x30
        ri(0x0d, 1, 1, 0xffff),                                     // 0x28 addi r1, r1, -1
        0x5c20_fff7,                                                // 0x2c bne r1, r0, L
        LM32Instruction.immediate(0x03, rX: 6, rY: 5, imm16: 8).word, // 0x30 sh (r5+8), r6
        ri(0x07, 7, 5, 8),                                          // 0x34 lh r7, (r5+8)
        0xc3a0_0000,                                                // 0x38 ret
    ]
    /// Exceptions: a divide by zero into the zeroed vector at 0x10a0, whose zero words (srui
    /// r0, r0, 0) run to the end of RAM, where each fetch is an instruction bus error.
    static let faults: [UInt32] = [rr(0x23, 4, 3, 0)]

    struct Snapshot: Equatable {
        var registers: [UInt32], pc: UInt32, cycles: UInt64, instructions: UInt64, steps: UInt64, data: [UInt8]
        var exception: LM32Exception?
    }

    func snapshot(_ cpu: LM32CPU) -> Snapshot {
        Snapshot(registers: (0..<32).map { cpu.registers[$0] }, pc: cpu.pc, cycles: cpu.cycles, instructions: cpu.instructions,
                 steps: cpu.steps, data: (0x800..<0x810).map { UInt8(cpu.bus.read(UInt32($0), size: 1)!.0) }, exception: cpu.lastException)
    }

    @Test(arguments: [(loop, 40), (loop, 700), (loop, 2_000), (faults, 3), (faults, 20_000)] as [([UInt32], UInt64)])
    func watchedAndSteppedRunsMatchAPlainRun(program: [UInt32], budget: UInt64) throws {
        let plain = try machine(program)
        #expect(plain.run(budget: budget) == .budget)

        // A watchpoint on an address the program never touches: nothing fires, every
        // instruction goes through the object's path.
        let watched = try machine(program)
        watched.watchpoints[0] = 0xfff0
        watched.dc = 3 << 2
        #expect(watched.run(budget: budget) == .budget)

        let stepped = try machine(program)
        for _ in 0..<budget { #expect(stepped.step() == nil) }

        #expect(snapshot(watched) == snapshot(plain))
        #expect(snapshot(stepped) == snapshot(plain))
        #expect(plain.steps == budget)
    }

    @Test func theLoopRunsAsWorkedOut() throws {
        // 2 mvi; 50 rounds of 13 instructions (L to bne, the call's three included); bne falls
        // through into f (sh, lh, ret), which returns to the addi: r1 = -1, bne taken (657 so
        // far). Then 103 rounds more (1,996) and lw, addi, sw, mul of the 104th: 2,000 steps,
        // 154 stores of 3 more each, r1 = -104, r3 = 462 x -104.
        let cpu = try machine(Self.loop)
        #expect(cpu.run(budget: 2_000) == .budget)
        #expect(cpu.bus.read(0x800, size: 4)!.0 == 154 * 3)
        #expect(cpu.registers[1] == UInt32(bitPattern: -104))
        #expect(cpu.registers[3] == UInt32(bitPattern: 462 * -104))
        #expect(cpu.pc == 0x18)
        #expect(cpu.lastException == nil)

        // divu at 0 raises (ea 0) into 0x10a0; 15,320 zero words to the end of RAM; the fetch
        // at 0x10000 fails (ea 0x10000) into 0x1040; 4,678 steps more reach 0x5958. The divide
        // retires into its handler (an instruction), the failed fetch is an exception step.
        let faults = try machine(Self.faults)
        #expect(faults.run(budget: 20_000) == .budget)
        #expect(faults.exceptionsTaken == 2)
        #expect(faults.lastException == .instructionBusError)
        #expect(faults.registers[30] == 0x10000)
        #expect(faults.pc == 0x1040 + 4_678 * 4)
        #expect(faults.instructions == 19_999 && faults.steps == 20_000)
    }

    @Test func codeInMemoryMappedOffAWordBoundaryRunsWordByWord() throws {
        // RAM at 0x2: the instruction at 0x4 starts 2 bytes into it. Decoding by the memory's
        // own word index would read the wrong bytes; the CPU reads such code through the bus.
        let bus = Bus()
        let memory = Memory(size: 0x100)
        let words: [UInt32] = [ri(0x0d, 1, 0, 7), ri(0x0d, 1, 1, 1)]   // mvi r1, 7; addi r1, r1, 1
        memory.load(words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> UInt32(24 - 8 * $0)) } }, at: 2)
        try bus.attach(memory, at: 2, size: 0x100, name: "ram")
        let cpu = LM32CPU(bus: bus, resetVector: 4)
        #expect(cpu.run(budget: 2) == .budget)
        #expect(cpu.registers[1] == 8)
        #expect(cpu.pc == 0xc)
        #expect(cpu.cycles == 2)
    }
}
