import ELF32
import Foundation
import LM32Asm
import Testing
import TestSupport

/// Our assembler against GNU as + ld for lm32-elf (scripts/build-lm32-toolchain.sh) on the
/// same source, and our executables in GNU's tools.
@Suite struct GNUComparisonTests {
    /// Sections, labels across sections, hi/lo of data addresses, every data directive GNU
    /// accepts, alignment, branches both ways, calls, aliases and CSRs.
    static let source = """
        # A firmware-shaped program.
            .global _start
            .set _fstack, 0xffff0
            .global _fstack
            .text
        _start:
            mvhi sp, hi(stack_top)
            ori sp, sp, lo(stack_top)
            mvhi r1, hi(message)
            ori r1, r1, lo(message)
            calli count
            mv r10, r1
            rcsr r2, IE
            wcsr IM, r0
            mvhi r3, hi(table)
            ori r3, r3, lo(table)
            lw r4, (r3+4)
            lhu r5, (r3+8)
            lb r6, (r3+10)
            add r1, r10, r4
            add r1, r1, r5
            add r1, r1, r6
            mvi r8, 1
            scall
            .align 16
        count:                      # length of the string at r1, in r1
            mv r2, r1
        1:
            lbu r3, (r2+0)
            be r3, r0, 2f
            addi r2, r2, 1
            bi 1b
        2:
            sub r1, r2, r1
            ret
            .data
        message: .asciz "hello, lm32"
            .align 4
        table: .word 0x11223344, 0x20
            .short 0x1234
            .byte -3, 0x7f
            .bss
            .align 16
        stack: .space 256
        stack_top:
        """

    @Test(.enabled(if: LM32Toolchain.shouldRun, "needs scripts/build-lm32-toolchain.sh"))
    func sameBytesAsGNUAsAndLd() throws {
        _ = try #require(LM32Toolchain.bin, "the reference lm32 tools are missing: run scripts/build-lm32-toolchain.sh")
        let named = Self.source
        let result = LM32Assembler.assemble(source: named, name: "fw.S", layout: LM32Layout(textAddress: 0x100))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map { $0.rendered() })")
        let ours = try #require(result.program)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sourceURL = directory.appendingPathComponent("fw.S"), object = directory.appendingPathComponent("fw.o")
        let theirs = directory.appendingPathComponent("fw.elf"), mine = directory.appendingPathComponent("ours.elf")
        try named.write(to: sourceURL, atomically: true, encoding: .utf8)
        try Data(ours.elf()).write(to: mine)
        let data = ours.sections[1].address, bss = ours.sections[2].address
        #expect(try Run(LM32Toolchain.tool("lm32-elf-as"), [sourceURL.path, "-o", object.path]).status == 0)
        let linked = try Run(LM32Toolchain.tool("lm32-elf-ld"), ["-Ttext=0x100", "-Tdata=0x\(String(data, radix: 16))",
                                                                 "-Tbss=0x\(String(bss, radix: 16))", object.path, "-o", theirs.path])
        #expect(linked.status == 0, "\(linked.stderr)")
        let reference = try ELF32File(parsing: [UInt8](Data(contentsOf: theirs)))
        let segments = try ELF32File(parsing: ours.elf()).segments
        // GNU ld's first segment may start below .text (it maps the headers too): compare by address.
        func bytes(_ file: [ELF32File.Segment], at address: UInt32, count: Int) -> [UInt8] {
            guard let segment = file.first(where: { $0.address <= address && UInt64(address) + UInt64(count) <= UInt64($0.address) + UInt64($0.data.count) }) else { return [] }
            let start = Int(address - segment.address)
            return Array(segment.data[start..<start + count])
        }
        for section in ours.sections where section.name != .bss {
            #expect(bytes(segments, at: section.address, count: section.bytes.count) == bytes(reference.segments, at: section.address, count: section.bytes.count),
                    "\(section.name.rawValue) differs from GNU as + ld")
            #expect(!section.bytes.isEmpty)
        }
        for name in ["_start", "count", "message", "table", "stack", "stack_top", "_fstack"] {
            #expect(ours.symbols.first { $0.name == name }?.address == reference.symbol(named: name)?.value, "symbol \(name)")
        }
        #expect(reference.entry == ours.entry)

        // GNU's tools read our executable: objdump disassembles it with our symbols, and
        // gdb's simulator runs it to the same exit status as our simulator computes.
        let dump = try Run(LM32Toolchain.tool("lm32-elf-objdump"), ["-d", mine.path])
        #expect(dump.status == 0 && dump.stderr.isEmpty, "\(dump.stderr)")
        #expect(dump.stdout.contains("00000100 <_start>:") && dump.stdout.contains("calli 150 <count>"), "\(dump.stdout)")
        let run = try Run(LM32Toolchain.tool("lm32-elf-run"), [mine.path])
        // 11 characters + 0x20 + 0x1234 + (-3), low byte: (11 + 32 + 4660 - 3) & 0xff = 0x5c.
        #expect(run.status == 0x5c)
        let ericRun = try Run("eric", ["run", mine.path])
        #expect(ericRun.status == 0x5c)
    }
}
