import Foundation
import LM32ISA
import TestSupport
import Testing

/// Fixtures/lm32/golden.txt: every instruction and operand form, assembled by GNU as and
/// disassembled by GNU objdump for lm32-elf (scripts/make-lm32-golden.py).
struct GoldenVector: Sendable, CustomTestStringConvertible {
    var address: UInt32
    var source: String
    var word: UInt32
    var objdump: String
    var testDescription: String { source }

    static let all: [GoldenVector] = {
        let text = (try? String(contentsOf: packageRoot.appendingPathComponent("Fixtures/lm32/golden.txt"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return GoldenVector(address: UInt32(f[0], radix: 16)!, source: f[1], word: UInt32(f[2], radix: 16)!, objdump: f[3])
        }
    }()
}

@Suite struct GoldenTests {
    @Test func vectorsAreThere() {
        #expect(GoldenVector.all.count >= 300)
    }

    @Test(arguments: GoldenVector.all)
    func disassemblesAsObjdump(_ vector: GoldenVector) {
        #expect(LM32Instruction(word: vector.word).text(address: vector.address) == vector.objdump, "\(vector.source)")
    }

    @Test func everyOpcodeSlotIsCovered() {
        let covered = Set(GoldenVector.all.map { LM32Instruction(word: $0.word).opcode })
        let defined = Set(LM32.specs.filter { $0.format != .reserved }.map(\.opcode))
        #expect(defined.subtracting(covered).isEmpty, "not covered: \(defined.subtracting(covered).sorted())")
    }
}
