import MPUISA
import Testing

@Suite struct EncodingTests {
    // Words worked out by hand from the layout in docs/isa.md.
    @Test func handWorkedWords() {
        // loadw r2, $0x1000: opcode e, size w (1), format 2 -> header 0xe6; r2 -> 0x20.
        #expect(Instruction(opcode: .load, size: .w, format: .immediate, registers: [RegisterRef(2)], immediate: 0x1000).encoded == 0xe620_0000_0000_1000)
        // hammq r10, r4, r5, r6: header 0x5c.
        #expect(Instruction(opcode: .hamm, size: .q, format: .registers, registers: [RegisterRef(10), RegisterRef(4), RegisterRef(5), RegisterRef(6)]).encoded == 0x5ca0_4050_6000_0000)
        // loadd r6_1, $0xf: sub-register byte 0x60 | 0x8 | 1 = 0x69.
        #expect(Instruction(opcode: .load, size: .d, format: .immediate, registers: [RegisterRef(6, slot: 1)], immediate: 0xf).bytes == [0xea, 0x69, 0, 0, 0, 0, 0, 0x0f])
        // intb $5: no register byte.
        #expect(Instruction(opcode: .int, size: .b, format: .immediate, registers: [], immediate: 5).encoded == 0xc200_0000_0000_0005)
    }

    @Test func immediateExtension() {
        let q = Instruction(opcode: .load, size: .q, format: .immediate, registers: [RegisterRef(1)], immediate: 0xffff_fffe)
        #expect(q.immediateValue == 0xffff_ffff_ffff_fffe) // q: sign-extended from 32 bits
        let d = Instruction(opcode: .load, size: .d, format: .immediate, registers: [RegisterRef(1)], immediate: 0xffff_fffe)
        #expect(d.immediateValue == 0xffff_fffe) // d: zero-extended
    }

    @Test(arguments: [
        (UInt64(0x0000_0000_0000_0000), "undefined opcode 0x0"),
        (0x6c00_0000_0000_0000, "undefined opcode 0x6"),
        (0xb000_0000_0000_0000, "undefined opcode 0xb"),
        (0xe700_0000_0000_0000 | 0x10 << 48, "reserved bit 56 is set"),
        (0x1c40_5060_7000_0001, "reserved bits 23..0 are not zero"),
        (0xcc30_1000_0000_0000, "unused operand byte 1 is not zero"),
        (0xc210_0000_0000_0005, "unused register byte is not zero"),
        (0xe210_0000_0000_0100, "immediate bits above the 8-bit field are set"),
        (0x4610_0000_0001_0000, "immediate bits above the 16-bit field are set"),
        (0xe610_0001_0000_0000, "reserved bits 47..32 are not zero"),
        (0x2c10_2038_0000_0000, "the target operand must be a whole register"),
        (0xd840_1800_0000_0000, "the page offset operand must be a whole register"),
        (0xe81a_2000_0000_0000, "sub-register index 2 does not exist at size d"),
        (0xec12_2000_0000_0000, "sub-register index 2 without the sub-register flag"),
        (0x1200_0000_0000_0000, "mask has no immediate format"),
    ] as [(UInt64, String)])
    func malformedWordsAreRejected(_ word: UInt64, _ reason: String) {
        #expect(throws: DecodeError(word: word, reason: reason)) { try Instruction(decoding: word) }
    }

    @Test func mnemonicSuffixes() {
        #expect(InstructionSet.parseMnemonic("add")! == ("add", .q, false))
        #expect(InstructionSet.parseMnemonic("addd")! == ("add", .d, true))
        #expect(InstructionSet.parseMnemonic("LOADB")! == ("load", .b, true))
        #expect(InstructionSet.parseMnemonic("movq")! == ("mov", .q, true))
        #expect(InstructionSet.parseMnemonic("loadx") == nil)
        #expect(InstructionSet.parseMnemonic("ad") == nil)
    }

    @Test func textUsesTheSuffixAndMovForRegisterLoads() {
        #expect(Instruction(opcode: .load, size: .q, format: .registers, registers: [RegisterRef(5), RegisterRef(4)]).text() == "movq r5, r4")
        #expect(Instruction(opcode: .load, size: .q, format: .immediate, registers: [RegisterRef(5)], immediate: 0xffff_ffff).text() == "loadq r5, $-1")
        #expect(Instruction(opcode: .jmp, size: .w, format: .immediate, registers: [], immediate: 0x40).text { $0 == 0x40 ? "entry" : nil } == "jmpw $entry")
        #expect(Instruction(opcode: .int, size: .b, format: .immediate, registers: [], immediate: 12).text() == "intb $0xc")
    }
}
