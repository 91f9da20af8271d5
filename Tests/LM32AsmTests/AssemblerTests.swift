import ELF32
import Foundation
import LM32Asm
import Testing
import TestSupport

@Suite struct AssemblerTests {
    func assemble(_ source: String, layout: LM32Layout = LM32Layout()) -> LM32AssemblyResult {
        LM32Assembler.assemble(source: source, name: "t.s", layout: layout)
    }

    func words(_ bytes: [UInt8]) -> [UInt32] {
        stride(from: 0, to: bytes.count - 3, by: 4).map { i in bytes[i..<i + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
    }

    /// The first error's headline (file:line:col: error: message).
    func firstError(_ source: String) -> String? {
        assemble(source).diagnostics.first { $0.severity == .error }?.headline
    }

    @Test func sectionsDataAndAlignment() throws {
        let result = assemble("""
            .text
            _start: nop
                .align 8                # byte count, zero-filled (as GNU as for lm32)
            two: .word two, 0x12345678, -1
                .byte 1, 0xff, -128
                .half 0x1234
                .p2align 2
                mvhi r1, hi(table)
                ori r1, r1, lo(table)
            .data
            table: .ascii "ab"
                .asciz "c"
                .space 3, 0xaa
            .bss
            buffer: .space 16
            .section .rodata
            after: .word buffer
            """)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map { $0.rendered() })")
        let program = try #require(result.program)
        let text = program.sections[0], data = program.sections[1], bss = program.sections[2]
        // .text: nop, 4 bytes of padding to 8, three words, three bytes, a half, 3 bytes to align 4, two instructions.
        #expect(text.address == 0 && text.size == 0x24)
        #expect(words(text.bytes) == [0x3400_0000, 0, 0x0000_0008, 0x1234_5678, 0xffff_ffff, 0x01ff_8012, 0x3400_0000, 0x7801_0000, 0x3821_0030])
        // .data after .text at the next multiple of 16: "ab", "c\0", aa aa aa, then buffer's
        // address, unaligned (GNU as does not align data either).
        #expect(data.address == 0x30)
        #expect(data.bytes == [0x61, 0x62, 0x63, 0x00, 0xaa, 0xaa, 0xaa, 0x00, 0x00, 0x00, 0x40])
        #expect(bss.address == 0x40 && bss.size == 16 && bss.bytes.isEmpty)
        #expect(program.entry == 0)
        let flat = program.flatImage()
        #expect(flat.address == 0 && flat.bytes.count == 0x3b)
    }

    @Test func constantsIncludesConditionalsAndDefinitions() throws {
        let provider = SourceProvider.inMemory(["inc/regs.i": "    .equ UART, 0xe0000000\n", "main.s": """
            .include "inc/regs.i"
            .set COUNT, 3
            LIMIT = COUNT * 4 + BIAS
            .ifdef DEBUG
                mvi r1, LIMIT
            .else
                mvi r1, -LIMIT
            .endif
            .if COUNT > 2
                mvhi r2, hi(UART)
            .endif
            """])
        let definitions = [try Definition(parsing: "DEBUG"), try Definition(parsing: "BIAS=2")]
        let result = LM32Assembler.assemble(path: "main.s", options: AssemblerOptions(definitions: definitions, provider: provider))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map { $0.rendered() })")
        #expect(words(try #require(result.program).sections[0].bytes) == [0x3401_000e, 0x7802_e000])
    }

    @Test func listingShowsAddressesAndBytes() throws {
        let result = assemble("start:\n    addi r1, r2, 5   # five\n    .word 1, 2\n")
        let text = LM32Listing.text(result.listing)
        // Line number (5 wide), address, the encoding padded to 28 columns, the source line as written.
        let pad = { (encoded: String) in encoded + String(repeating: " ", count: 28 - encoded.count) }
        #expect(text.contains("    2  00000000  " + pad("34410005") + "      addi r1, r2, 5   # five\n"))
        #expect(text.contains("    3  00000004  " + pad("00000001 00000002") + "      .word 1, 2\n"))
    }

    @Test(arguments: [
        ("    addd r1, r2, r3", "t.s:1:5: error: unknown instruction 'addd' (did you mean 'add'?)"),
        ("    add r1, r2, r32", "t.s:1:17: error: expected a register (r0-r31, gp, fp, sp, ra, ea, ba)"),
        ("    add r1, r2", "t.s:1:9: error: 'add' takes rX, rY, rZ"),
        ("    addi r1, r2, 40000", "t.s:1:18: error: 40000 is out of range for a signed 16-bit value (-32768 to 32767); hi()/lo() take the halves of a 32-bit value"),
        ("    ori r1, r2, -1", "t.s:1:17: error: -1 is out of range for an unsigned 16-bit value (0 to 65535); hi()/lo() take the halves of a 32-bit value"),
        ("    sli r1, r2, 32", "t.s:1:17: error: 32 is out of range for a shift count (0 to 31)"),
        ("    lw r1, r2", "t.s:1:12: error: expected a memory operand (rY+offset)"),
        ("    lw r1, (r2*4)", "t.s:1:15: error: expected '+' or '-' and an offset after the base register"),
        ("    sw (sp+40000), r1", "t.s:1:12: error: offset 40000 is out of range (-32768 to 32767)"),
        ("    bi nowhere", "t.s:1:8: error: undefined symbol 'nowhere'"),
        ("    be r1, r2, 6", "t.s:1:16: error: branch target 0x6 is not a multiple of 4"),
        ("    be r1, r2, 0x40000", "t.s:1:16: error: branch target is 262144 bytes away, beyond the 16-bit word offset (-131072 to 131068)"),
        ("    rcsr r1, XX", "t.s:1:14: error: expected a control register (IE, IM, IP, ICC, DCC, CC, CFG, EBA, DC, DEBA, CFG2, JTX, JRX, BP0, BP1, BP2, BP3, WP0, WP1, WP2, WP3)"),
        ("    user r1, r2, r3, 0x800", "t.s:1:22: error: user opcode 2048 does not fit in 11 bits (0 to 0x7ff)"),
        ("x: nop\\nx: nop", "t.s:2:1: error: label 'x' is already defined at line 1"),
        (".bss\\n    nop", "t.s:2:5: error: instructions cannot go in .bss (it holds only reserved space)"),
        ("    .wrod 1", "t.s:1:5: error: unknown directive '.wrod' (did you mean '.word'?)"),
        ("    .byte 256", "t.s:1:11: error: value 256 does not fit in 8 bits (-128 to 255)"),
        ("    .align 3", "t.s:1:12: error: alignment 3 is not a power of two up to 65536"),
        ("    .include \"missing.i\"", "t.s:1:14: error: cannot find included file 'missing.i' (searched next to t.s and -I paths)"),
        (".if 1\\n    nop", "t.s:1:1: error: '.if' has no matching '.endif'"),
        (".else", "t.s:1:1: error: '.else' without '.if'"),
        ("    .equ A, B\\n    .equ B, A\\n    .word A", "t.s:3:11: error: 'A' cannot be evaluated: 'B' cannot be evaluated: 'A' is defined in terms of itself"),
        ("here: nop\\n    .space here", "t.s:2:12: error: 'here' is an address, not known until every section is placed"),
        ("    .space later\\nlater: nop", "t.s:1:12: error: undefined symbol 'later'"),
        ("    .global main", "t.s:1:13: error: '.global main': no such label"),
        ("    mvi r1, 'ab'", "t.s:1:13: error: unterminated character literal (expected ')"),
        ("    nop r1", "t.s:1:9: error: 'nop' takes no operands"),
        (".data\\n    .space 0xfffffff0", "t.s:2:5: error: section .data would take .text and .data past 64 MiB of stored bytes (reserve large areas in .bss)"),
        ("    bi 1b\\n1: nop", "t.s:1:8: error: '1b' refers to a '1:' label before this line, and there is none"),
        ("1: nop\\n    bi 1f", "t.s:2:8: error: '1f' refers to a '1:' label after this line, and there is none"),
    ])
    func errorsAreLocated(_ source: String, _ expected: String) {
        // Lines are written `\n` in the table, so that each case's name stays on one line of the log.
        #expect(firstError(source.replacingOccurrences(of: "\\n", with: "\n")) == expected)
    }

    @Test func numericLocalLabelsResolveToTheNearestInstance() throws {
        // 0: 1: nop ; 4: bi 1f (-> 8) ; 8: 1: bi 1b (-> 8, its own line's label) ; 0xc: 1: bi 1b (-> 0xc) ;
        // 0x10: be r0, r0, 2f (-> 0x14) ; 0x14: 2: nop. GNU as 2.40 encodes the same words.
        let result = assemble("1: nop\n    bi 1f\n1: bi 1b\n1:  bi 1b\n    be r0, r0, 2f\n2: nop\n")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map { $0.rendered() })")
        let program = try #require(result.program)
        #expect(words(program.sections[0].bytes) == [0x3400_0000, 0xe000_0001, 0xe000_0000, 0xe000_0000, 0x4400_0001, 0x3400_0000])
        #expect(program.symbols.isEmpty)
    }

    @Test func layoutErrors() {
        let overlapping = assemble(".text\n nop\n nop\n.data\n .word 1\n", layout: LM32Layout(textAddress: 0, dataAddress: 4))
        #expect(overlapping.diagnostics.first?.headline == "<layout>: error: .data (0x4-0x8) overlaps .text (0x0-0x8)")
        let misaligned = assemble(".data\n .align 16\n .word 1\n", layout: LM32Layout(dataAddress: 0x1008))
        #expect(misaligned.diagnostics.first?.headline == "<layout>: error: .data at 0x1008 is not aligned to 16 bytes, as its contents need")
    }

    @Test func elfIsReadBackWithItsSymbols() throws {
        let program = try #require(assemble("""
            .global _start
            .set STACK, 0x8000
            .text
            boot: nop
            _start: bi boot
            .data
            value: .word 7
            .bss
            .space 8
            """, layout: LM32Layout(textAddress: 0x1000)).program)
        let file = try ELF32File(parsing: program.elf())
        #expect(file.entry == 0x1004)
        #expect(file.segments.map(\.address) == [0x1000, 0x1010, 0x1020])
        #expect(file.segments.map(\.memorySize) == [8, 4, 8])
        #expect(file.segments[0].data == [0x34, 0, 0, 0, 0xe3, 0xff, 0xff, 0xff])
        #expect(file.segments[2].data.isEmpty)
        #expect(file.symbol(named: "_start") == ELF32File.Symbol(name: "_start", value: 0x1004, size: 0, isGlobal: true))
        #expect(file.symbol(named: "value")?.value == 0x1010)
        #expect(file.symbol(named: "STACK")?.value == 0x8000)
    }
}
