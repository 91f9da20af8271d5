import LM32ISA
import LM32Sim
import Testing

/// Cycle counts worked out by hand from docs/timing.md ("LM32"): 1 cycle an instruction;
/// results usable 1 (ALU), 2 (compare, shift) or 3 (load, multiply) cycles after issue;
/// divide 34; predicted-taken jump +1; mispredicted branch, register jump, exception +3.
@Suite struct CycleTests {
    func cycles(_ program: [UInt32], steps: UInt64, setUp: (LM32CPU) -> Void = { _ in }) throws -> UInt64 {
        let cpu = try machine(program)
        setUp(cpu)
        #expect(cpu.run(budget: steps) == .budget)
        return cpu.cycles
    }

    @Test func resultLatencies() throws {
        #expect(try cycles([rr(0x2d, 1, 2, 3), rr(0x2d, 4, 1, 1)], steps: 2) == 2)                 // add; add: no stall
        #expect(try cycles([ri(0x0a, 1, 2, 0), rr(0x2d, 4, 1, 1)], steps: 2) == 4)                 // lw; add: 2 stalls
        #expect(try cycles([ri(0x0a, 1, 2, 0), 0x3400_0000, rr(0x2d, 4, 1, 1)], steps: 3) == 4)    // lw; nop; add: 1 stall
        #expect(try cycles([rr(0x39, 1, 2, 3), rr(0x2d, 4, 1, 1)], steps: 2) == 3)                 // cmpe; add: 1 stall
        #expect(try cycles([rr(0x22, 1, 2, 3), rr(0x2d, 4, 1, 1)], steps: 2) == 4)                 // mul; add: 2 stalls
        #expect(try cycles([ri(0x0a, 1, 2, 0), rr(0x2d, 4, 5, 6)], steps: 2) == 2)                 // independent: none
    }

    @Test func divideTakes34() throws {
        #expect(try cycles([rr(0x23, 1, 2, 3)], steps: 1) { $0.registers[3] = 2 } == 34)
    }

    @Test func branchPrediction() throws {
        // L: addi r1,r1,-1 ; bne r1,r0,L with r1 = 3: three addi (1 each), two taken backward
        // bne (predicted: 2 each), the last one falls through (mispredicted: 4).
        let loop = [ri(0x0d, 1, 1, 0xffff), 0x5c20_ffff]
        #expect(try cycles(loop, steps: 6) { $0.registers[1] = 3 } == 3 + 2 + 2 + 4)
        // be r0,r0,+8 (forward, taken: mispredicted, 4); nop at the target (1).
        #expect(try cycles([0x4400_0002, 0x3400_0000, 0x3400_0000], steps: 2) == 5)
        // bne r0,r0,+8 (forward, not taken: predicted, 1).
        #expect(try cycles([0x5c00_0002], steps: 1) == 1)
        // calli +8 (2); mvi (1) at the target; ret (4).
        #expect(try cycles([0xf800_0002, 0x3400_0000, ri(0x0d, 2, 0, 1), 0xc3a0_0000], steps: 3) == 7)
    }

    @Test func exceptionsCostARefill() throws {
        #expect(try cycles([0xac00_0007], steps: 1) == 4)                                          // scall
        #expect(try cycles([rr(0x23, 1, 2, 3)], steps: 1) == 4)                                    // divide by zero
    }

    @Test func waitStatesAndTheCycleCounter() throws {
        let bus = Bus()
        let memory = Memory(size: 0x1000, waitStates: 2)
        let words: [UInt32] = [0x3400_0000, ri(0x0a, 1, 0, 0x100), 0x90a0_1000]   // nop; lw r1,(r0+256); rcsr r2,CC
        memory.load(words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> UInt32(24 - 8 * $0)) } }, at: 0)
        try bus.attach(memory, at: 0, size: 0x1000, name: "slow ram")
        let cpu = LM32CPU(bus: bus)
        #expect(cpu.run(budget: 3) == .budget)
        // nop: 1 + 2 (fetch); lw: 1 + 2 (fetch) + 2 (data); rcsr: 1 + 2 and reads CC then.
        #expect(cpu.cycles == 3 + 5 + 3)
        #expect(cpu.registers[2] == 11)
    }
}
