import LM32ISA
import Testing

/// Words GNU as 2.40 assembles for lm32 and the text the lm32 objdump (both built from Debian's
/// binutils sources) prints for each, decoded and printed by the table.
@Suite struct SheetExamplesTests {
    @Test(arguments: [
        (UInt32(0xb422_1800), "add r3,r1,r2"), (0x3401_ffff, "mvi r1,-1"), (0x7804_1234, "mvhi r4,0x1234"),
        (0x3884_5678, "ori r4,r4,0x5678"), (0x2b85_0008, "lw r5,(sp+8)"), (0x5b85_fffc, "sw (sp+-4),r5"),
        (0xc3a0_0000, "ret"), (0xc3c0_0000, "eret"), (0xc3e0_0000, "bret"), (0xac00_0007, "scall"), (0xac00_0002, "break"),
        (0x9020_3800, "rcsr r7,IM"), (0xd007_0000, "wcsr IE,r7"), (0x8c43_0800, "divu r1,r2,r3"), (0xc443_0800, "modu r1,r2,r3"),
        (0x3c41_0003, "sli r1,r2,3"), (0x0041_001f, "srui r1,r2,31"), (0xb140_4800, "sextb r9,r10"),
        (0xcc43_0fff, "user r1,r2,r3,0x7ff"), (0x3400_0000, "nop"), (0xb840_0800, "mv r1,r2"), (0xa440_0800, "not r1,r2"),
        (0x7441_ffff, "cmpgui r1,r2,0xffff"), (0x6041_8000, "andhi r1,r2,0x8000"), (0xd8a0_0000, "call r5"), (0xc0c0_0000, "b r6"),
        (0x90a0_0800, "rcsr r1,CC"), (0xd0e1_0000, "wcsr EBA,r1"), (0xd121_0000, "wcsr DEBA,r1"), (0x90c0_0800, "rcsr r1,CFG"),
        (0xd041_0000, "wcsr IP,r1"), (0x3803_beef, "mvu r3,0xbeef"), (0x6c41_8000, "cmpgei r1,r2,-32768"), (0x2041_ffff, "andi r1,r2,0xffff"),
    ] as [(UInt32, String)])
    func decodesAsObjdumpPrints(word: UInt32, text: String) {
        #expect(LM32Instruction(word: word).text() == text)
    }

    @Test func branchOffsetsFromTheBranchItself() {
        // `be r1,r2,start` at 0x18 -> 0x4422fffa: imm -6 words, target 0x18 - 24 = 0.
        #expect(LM32Instruction(word: 0x4422_fffa).text(address: 0x18) == "be r1,r2,0x0")
        // bi at 8 -> 0xe3ffffff: imm26 -1, target 4 (section 4.3's three-word example).
        #expect(LM32Instruction(word: 0xe3ff_ffff).text(address: 8) == "bi 0x4")
        #expect(LM32Instruction(word: 0x5c22_0002).text(address: 0x100) == "bne r1,r2,0x108")
        // At the range limits: imm16 0x7fff and 0x8000 words; imm26 at both ends.
        #expect(LM32Instruction(word: 0x4422_7fff).branchOffset == 0x1_fffc)
        #expect(LM32Instruction(word: 0x4422_8000).branchOffset == -0x2_0000)
        #expect(LM32Instruction(word: 0xe1ff_ffff).branchOffset == 0x7ff_fffc)
        #expect(LM32Instruction(word: 0xe200_0000).branchOffset == -0x800_0000)
    }

    @Test func immediateExtension() {
        #expect(LM32Instruction(word: 0x3401_ffff).immediateValue == 0xffff_ffff)   // addi: sign
        #expect(LM32Instruction(word: 0x2041_ffff).immediateValue == 0x0000_ffff)   // andi: zero
        #expect(LM32Instruction(word: 0x6041_8000).immediateValue == 0x8000_0000)   // andhi: high half
        #expect(LM32Instruction(word: 0x3c41_0021).immediateValue == 1)             // sli 33: low 5 bits
        #expect(LM32Instruction(word: 0x7441_ffff).immediateValue == 0x0000_ffff)   // cmpgui: zero
        #expect(LM32Instruction(word: 0x6c41_8000).immediateValue == 0xffff_8000)   // cmpgei: sign
    }

    @Test func encoders() {
        #expect(LM32Instruction.registers(0x2d, rX: 3, rY: 1, rZ: 2).word == 0xb422_1800)
        #expect(LM32Instruction.immediate(0x0d, rX: 1, rY: 0, imm16: 0xffff).word == 0x3401_ffff)
    }
}

/// The instruction table's timing and operand roles against the LatticeMico32 manual's
/// pipeline description (docs/timing.md, "LM32"), written out here by hand.
@Suite struct TableFactsTests {
    @Test func latenciesByUnit() {
        let loadsAndMultiplies: Set<String> = ["lb", "lh", "lw", "lhu", "lbu", "mul", "muli"]
        let shiftsAndCompares: Set<String> = ["sl", "sli", "sr", "sri", "sru", "srui", "cmpe", "cmpei", "cmpne", "cmpnei",
                                              "cmpg", "cmpgi", "cmpge", "cmpgei", "cmpgu", "cmpgui", "cmpgeu", "cmpgeui"]
        for spec in LM32.specs {
            let expected: UInt8 = loadsAndMultiplies.contains(spec.mnemonic) ? 3 : shiftsAndCompares.contains(spec.mnemonic) ? 2 : 1
            #expect(spec.latency == expected, "\(spec.mnemonic)")
        }
    }

    @Test func operationsAreTheirOpcodes() {
        #expect(LM32Operation.allCases.count == 64)
        for operation in LM32Operation.allCases {
            #expect(operation.spec.operation == operation)
            #expect(LM32Instruction(word: UInt32(operation.opcode) << 26).operation == operation)
        }
        #expect(LM32Operation.addi.opcode == 0x0d && LM32Operation.calli.opcode == 0x3e && LM32Operation.wcsr.opcode == 0x34)
        #expect(LM32.operation(named: "sexth") == .sexth)
        #expect(LM32.operation(named: "reserved") == nil)
        #expect(LM32.operation(named: "raise") == nil)      // written scall / break
    }

    @Test func whatEachFormatReadsAndWrites() {
        let call = LM32Operation.call.spec.roles, calli = LM32Operation.calli.spec.roles
        #expect(call.source1 == .r0 && call.source2 == nil && call.destination == .ra)
        #expect(calli.source1 == nil && calli.destination == .ra)
        let store = LM32Operation.sw.spec.roles
        #expect(store.source1 == .r0 && store.source2 == .r1 && store.destination == nil)
        let load = LM32Operation.lw.spec.roles
        #expect(load.source1 == .r0 && load.source2 == nil && load.destination == .r1)
        let add = LM32Operation.add.spec.roles
        #expect(add.source1 == .r0 && add.source2 == .r1 && add.destination == .r2)
        #expect(LM32Operation.b.spec.roles.destination == nil)
        #expect(LM32Operation.wcsr.spec.roles.source1 == .r1 && LM32Operation.rcsr.spec.roles.destination == .r2)
    }
}

/// The relations of compares and branches: one per low three opcode bits, in all three forms.
@Suite struct RelationTests {
    @Test func theOpcodeBitsNameTheSameRelation() {
        let groups: [[LM32Operation]] = [[.cmpe, .cmpei, .be], [.cmpg, .cmpgi, .bg], [.cmpge, .cmpgei, .bge],
                                         [.cmpgeu, .cmpgeui, .bgeu], [.cmpgu, .cmpgui, .bgu], [.cmpne, .cmpnei, .bne]]
        let relations: [LM32Relation] = [.equal, .greater, .greaterOrEqual, .greaterOrEqualUnsigned, .greaterUnsigned, .notEqual]
        for (group, relation) in zip(groups, relations) {
            for operation in group { #expect(operation.opcode & 7 == relation.rawValue, "\(operation)") }
        }
    }

    /// Each relation spelled out, the manual's way: the oracle for the simulator's branch-free test.
    func holds(_ relation: LM32Relation, _ a: UInt32, _ b: UInt32) -> Bool {
        switch relation {
        case .equal: return a == b
        case .greater: return Int32(bitPattern: a) > Int32(bitPattern: b)
        case .greaterOrEqual: return Int32(bitPattern: a) >= Int32(bitPattern: b)
        case .greaterOrEqualUnsigned: return a >= b
        case .greaterUnsigned: return a > b
        case .notEqual: return a != b
        }
    }

    @Test func theBranchFreeTestAgreesWithTheRelations() {
        // Worked out by hand: 0xffffffff is -1 signed and the largest unsigned.
        #expect(LM32Relation.holds(opcode: 0x12, 1, 0xffff_ffff) && !LM32Relation.holds(opcode: 0x15, 1, 0xffff_ffff))   // bg, bgu
        #expect(LM32Relation.holds(opcode: 0x14, 7, 7) && !LM32Relation.holds(opcode: 0x17, 7, 7))                       // bgeu, bne
        let values: [UInt32] = [0, 1, 2, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff]
        for relation in [LM32Relation.equal, .greater, .greaterOrEqual, .greaterOrEqualUnsigned, .greaterUnsigned, .notEqual] {
            for a in values {
                for b in values {
                    #expect(LM32Relation.holds(opcode: 0x38 | relation.rawValue, a, b) == holds(relation, a, b), "\(relation) \(a) \(b)")
                }
            }
        }
    }
}
