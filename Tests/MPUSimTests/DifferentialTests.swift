import MPUAsm
import MPUISA
import MPUSim
import Synth
import Testing

/// A reference model written from docs/isa.md, over decoded instructions: slow and plain,
/// sharing nothing with the simulator's pre-decoded form.
struct ReferenceMPU {
    var registers = [UInt64](repeating: 0, count: 16)
    var page: [UInt8]

    func read(_ register: RegisterRef, _ size: OperandSize) -> UInt64 {
        let shift = UInt64(Int(register.slot ?? 0) * size.bits)
        return (registers[Int(register.number)] >> shift) & size.mask
    }

    mutating func write(_ register: RegisterRef, _ size: OperandSize, _ value: UInt64) {
        guard register.number != 0 else { return }
        if let slot = register.slot {
            let shift = UInt64(Int(slot) * size.bits)
            registers[Int(register.number)] = registers[Int(register.number)] & ~(size.mask << shift) | (value & size.mask) << shift
        } else {
            registers[Int(register.number)] = value & size.mask
        }
    }

    /// Straight-line instructions only (load, mov, add, hamm, mload).
    mutating func execute(_ instruction: Instruction) {
        let size = instruction.size, r = instruction.registers
        switch (instruction.opcode, instruction.format) {
        case (.load, .immediate): write(r[0], size, instruction.immediateValue)
        case (.load, .registers): write(r[0], size, read(r[1], size))
        case (.add, .registers): write(r[0], size, read(r[1], size) &+ read(r[2], size))
        case (.add, .immediate): write(r[0], size, read(r[0], size) &+ instruction.immediateValue)
        case (.hamm, _): write(r[0], size, UInt64(((read(r[1], size) ^ read(r[2], size)) & read(r[3], size)).nonzeroBitCount))
        case (.mload, .immediate):
            var value: UInt64 = 0
            for k in 0..<size.bytes { value |= UInt64(page[Int(instruction.immediate) + k]) << UInt64(8 * k) }
            write(r[0], size, value)
        default: fatalError("not generated")
        }
    }
}

@Suite struct DifferentialTests {
    /// Random straight-line programs over every size and sub-register; each ends by raising
    /// every non-zero register, so the alerts show the whole final state.
    @Test(arguments: 0..<40)
    func simulatorMatchesTheReferenceModel(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 0x9e37)
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        func register(_ size: OperandSize, allowR15: Bool = true) -> RegisterRef {
            let number = UInt8(pick(allowR15 ? 16 : 15))
            return pick(3) == 0 ? RegisterRef(number, slot: UInt8(pick(size.slotCount))) : RegisterRef(number)
        }
        var h = Harness()
        for i in 0..<4096 { h.page[i] = UInt8(truncatingIfNeeded: random.next()) }
        var instructions: [Instruction] = []
        for _ in 0..<(20 + pick(40)) {
            let size = OperandSize(rawValue: UInt8(pick(4)))!
            let immediate = UInt32(truncatingIfNeeded: random.next()) & (size.immediateBits == 32 ? .max : (1 << UInt32(size.immediateBits)) - 1)
            switch pick(6) {
            case 0: instructions.append(Instruction(opcode: .load, size: size, format: .immediate, registers: [register(size)], immediate: immediate))
            case 1: instructions.append(Instruction(opcode: .load, size: size, format: .registers, registers: [register(size), register(size)]))
            case 2: instructions.append(Instruction(opcode: .add, size: size, format: .registers, registers: [register(size), register(size), register(size)]))
            case 3: instructions.append(Instruction(opcode: .add, size: size, format: .immediate, registers: [register(size)], immediate: immediate))
            case 4: instructions.append(Instruction(opcode: .hamm, size: size, format: .registers, registers: (0..<4).map { _ in register(size) }))
            default:
                instructions.append(Instruction(opcode: .mload, size: size, format: .immediate, registers: [register(size)],
                                                immediate: UInt32(pick(4096 - size.bytes + 1))))
            }
        }
        var reference = ReferenceMPU(page: h.page)
        reference.registers[15] = h.pageAddress
        for instruction in instructions { reference.execute(instruction) }
        var source = instructions.map { $0.text() }.joined(separator: "\n")
        let raised = (1..<16).filter { reference.registers[$0] != 0 }
        source += "\n" + raised.map { "intq r\($0)" }.joined(separator: "\n") + "\nintq r0\n"

        let (run, alerts) = try h.run(source)
        #expect(run.fault == nil)
        #expect(alerts.map(\.value) == raised.map { reference.registers[$0] }, "seed \(seed)")
        #expect(run.instructions == UInt64(instructions.count + raised.count + 1))
        let mloads = instructions.filter { $0.opcode == .mload }.count
        #expect(run.cycles == UInt64(instructions.count + raised.count + 1 + mloads)) // an mload waits 1 buffer cycle
    }

    /// Runs that start after the folded prologue give what a step-by-step trace gives.
    @Test func prologueFoldingChangesNothing() throws {
        let sources = [
            try String(contentsOfFile: packageRoot + "/automata/ept-identity.s", encoding: .utf8),
            "loadd r6_0, $0xfffff000\n loadd r6_1, $0xf\n loadq r0, $3\n movb r2_3, r6_1\n hammq r3, r6, r2, r6\n intq r3\n intq r6\n intq r15\n intq r0",
            "loadw r1, $5\n loadq r15, $7\n intq r15\n intq r1\n intq r0",  // r15 written: the prologue stops before it
            "intb $9\n intq r0",                                               // no prologue
        ]
        var h = Harness()
        for i in 0..<512 { h.page[i * 8] = i == 0 ? 0x37 : 0x37; h.page[i * 8 + 1] = UInt8(0x10 * (i % 16)); h.page[i * 8 + 2] = UInt8(i / 16) }
        for source in sources {
            let automaton = try h.automaton(source)
            let (fast, fastAlerts) = try h.run(source)
            let (traced, tracedAlerts, steps) = h.page.withUnsafeBytes { MPU(timing: h.timing).trace(automaton, page: $0.baseAddress!, pageAddress: h.pageAddress) }
            #expect(fast == traced, "\(source)")
            #expect(fastAlerts == tracedAlerts, "\(source)")
            #expect(UInt64(steps.count) == traced.instructions + (traced.fault == nil ? 0 : 0))
        }
    }

    @Test func watchdogInsideThePrologueIsExact() throws {
        var h = Harness()
        h.timing.watchdogCycles = 3
        let (result, _) = try h.run("loadb r1, $1\n loadb r2, $2\n loadb r3, $3\n loadb r4, $4\n intq r0")
        #expect(result.fault == Fault(kind: .watchdog, pc: 0x18, cycle: 3))
        #expect(result.instructions == 3)
    }
}
