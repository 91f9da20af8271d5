import Foundation
import MPUAsm
import MPUISA
import Testing

/// Every opcode, size, format and operand shape: encode -> decode -> disassemble ->
/// assemble gives the same bytes.
@Suite struct RoundTripTests {
    /// The register shapes an operand of this role accepts at this size: a few plain
    /// registers, and every sub-register index where sub-registers are allowed.
    static func shapes(_ role: OperandRole, _ size: OperandSize) -> [RegisterRef] {
        var shapes = [RegisterRef(0), RegisterRef(1), RegisterRef(9), RegisterRef(15)]
        if role.acceptsSubRegister {
            shapes += (0..<size.slotCount).map { RegisterRef(UInt8(3 + $0), slot: UInt8($0)) }
        }
        return shapes
    }

    static func immediates(_ role: ImmediateRole, _ size: OperandSize, jump: Bool) -> [UInt32] {
        let field: UInt32 = size.immediateBits == 32 ? .max : (1 << UInt32(size.immediateBits)) - 1
        switch role {
        case .value: return [0, 1, 0x7f & field, field, field >> 1, field ^ (field >> 1)]
        case .address:
            return jump ? [0, 8, 0xfff8, 0xffff_fff8] : [0, 1, 0xfff, 0xffff_ffff]
        }
    }

    static func allInstructions() -> [Instruction] {
        var all: [Instruction] = []
        for spec in InstructionSet.specs {
            for size in OperandSize.allCases {
                if let operands = spec.registerForm {
                    // Vary one operand at a time over all its shapes; the others take r2, r3, ...
                    for (position, operand) in operands.enumerated() {
                        for shape in shapes(operand.role, size) {
                            var registers = operands.indices.map { RegisterRef(UInt8(2 + $0)) }
                            registers[position] = shape
                            all.append(Instruction(opcode: spec.opcode, size: size, format: .registers, registers: registers))
                        }
                    }
                }
                if let form = spec.immediateForm {
                    let registers = form.register.map { shapes($0.role, size) } ?? [nil].compactMap { $0 }
                    for register in registers.isEmpty ? [nil] : registers.map(Optional.some) {
                        for immediate in immediates(form.immediate, size, jump: spec.opcode == .jmp) {
                            all.append(Instruction(opcode: spec.opcode, size: size, format: .immediate,
                                                   registers: register.map { [$0] } ?? [], immediate: immediate))
                        }
                    }
                }
            }
        }
        return all
    }

    /// Found by the mpuas fuzz campaign of 2026-12-05: a local label defined before the
    /// first label (`.start`) named the jump target 0 and the page offset 0 after another
    /// label, where `$.start` no longer resolves, so `mpuas -d` gave source that did not
    /// assemble. Such references stay numbers; page offsets are never labels.
    @Test func localLabelsOutsideTheirScopeAndPageOffsetsStayNumbers() throws {
        let source = """
            .automaton "scopes"
            .start:
                jmpw $.start
                mloadq r1, $0
            next:
                jmpw $0
                mloadq r2, $8
            .inner:
                jmpw $next.inner
            """
        let image = try #require(MPUAssembler.assemble(source: source, name: "scopes.s").image)
        let text = try Disassembler.source(of: image)
        let code = text.split(separator: "\n").filter { $0.hasPrefix("    ") }.map { $0.split(separator: "/")[0].trimmingCharacters(in: .whitespaces) }
        #expect(code == ["jmpw $.start", "mloadq r1, $0", "jmpw $0", "mloadq r2, $8", "jmpw $next.inner"])
        let again = try #require(MPUAssembler.assemble(source: text, name: "again.s").image)
        #expect(again.serialized() == image.serialized())
    }

    @Test func everyFormRoundTrips() throws {
        let instructions = Self.allInstructions()
        #expect(instructions.count > 500)
        var source = ""
        for instruction in instructions {
            let decoded = try Instruction(decoding: instruction.encoded)
            #expect(decoded == instruction)
            source += decoded.text() + "\n"
        }
        let result = MPUAssembler.assemble(source: source, name: "roundtrip.s")
        // r0 as a destination only warns.
        #expect(result.diagnostics.allSatisfy { $0.severity == .warning }, "\(result.diagnostics.prefix(3).map(\.headline))")
        let image = try #require(result.image)
        #expect(image.code == instructions.flatMap(\.bytes))
    }

    @Test func everyOpcodeAndSizeIsCovered() {
        let instructions = Self.allInstructions()
        for spec in InstructionSet.specs {
            for size in OperandSize.allCases {
                if spec.registerForm != nil { #expect(instructions.contains { $0.opcode == spec.opcode && $0.size == size && $0.format == .registers }) }
                if spec.immediateForm != nil { #expect(instructions.contains { $0.opcode == spec.opcode && $0.size == size && $0.format == .immediate }) }
            }
        }
    }

    @Test func disassembledImageReassemblesToTheSameFile() throws {
        let (result, _) = try assembleFixture("ok", "symbols.s")
        let image = try #require(result.image)
        let source = try Disassembler.source(of: image)
        let again = MPUAssembler.assemble(source: source, name: "again.s")
        #expect(again.diagnostics.isEmpty, "\(again.diagnostics.map(\.headline))")
        #expect(again.image?.serialized() == image.serialized())
    }
}
