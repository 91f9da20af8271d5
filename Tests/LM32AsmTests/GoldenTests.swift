import Foundation
import LM32Asm
import LM32ISA
import Testing
import TestSupport

/// Fixtures/lm32/golden.txt: every instruction and operand form, as GNU as 2.40 for lm32-elf
/// encoded it (scripts/make-lm32-golden.py). The same program, rebuilt from the file's source
/// column with the script's labels (`back:` first, `fwd:` before the final nop), must give the
/// same word at every address.
@Suite struct GoldenTests {
    struct Vector { var address: UInt32; var source: String; var word: UInt32 }

    static let vectors: [Vector] = {
        let text = try! String(contentsOf: packageRoot.appendingPathComponent("Fixtures/lm32/golden.txt"), encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let fields = line.split(separator: "\t")
            return Vector(address: UInt32(fields[0], radix: 16)!, source: String(fields[1]), word: UInt32(fields[2], radix: 16)!)
        }
    }()

    @Test func everyVectorEncodesAsGNUAsDoes() throws {
        var lines = ["back:"]
        for vector in Self.vectors {
            if vector.source == "nop" && vector.address == Self.vectors.last!.address { lines.append("fwd:") }
            lines.append("    " + vector.source)
        }
        let result = LM32Assembler.assemble(source: lines.joined(separator: "\n") + "\n", name: "golden.s")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map { $0.rendered() })")
        let program = try #require(result.program)
        let text = program.sections[0].bytes
        #expect(text.count == Self.vectors.count * 4)
        for vector in Self.vectors where Int(vector.address) + 4 <= text.count {
            let bytes = text[Int(vector.address)..<Int(vector.address) + 4]
            let word = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(word == vector.word, "\(vector.source): 0x\(String(word, radix: 16)), GNU as: 0x\(String(vector.word, radix: 16))")
        }
        #expect(Self.vectors.count == 306)
    }
}
