import ELF32
import Foundation
import Testing
import TestSupport

@Suite struct LM32AsCommandTests {
    func write(_ text: String, _ name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func writesELFAndFlatImages() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try write("    .global _start\n_start: mvi r1, 3\n    .data\nx: .word 0xcafe\n", "boot.S", in: directory)
        let elf = try Run("lm32as", ["--text-address", "0x860000", source], in: directory)
        #expect(elf.status == 0 && elf.stderr.isEmpty, "\(elf.stderr)")
        let file = try ELF32File(parsing: [UInt8](Data(contentsOf: directory.appendingPathComponent("boot.elf"))))
        #expect(file.entry == 0x86_0000)
        #expect(file.segments.map(\.address) == [0x86_0000, 0x86_0010])
        let flat = try Run("lm32as", ["--format", "binary", "--text-address", "0x860000", "-o", "-", source], in: directory)
        // mvi r1, 3; 12 bytes of gap to .data at 0x860010; 0x0000cafe.
        #expect([UInt8](flat.stdoutBytes) == [0x34, 0x01, 0x00, 0x03] + [UInt8](repeating: 0, count: 12) + [0x00, 0x00, 0xca, 0xfe])
    }

    @Test func reportsErrorsWithLocationAndExitStatus() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try write("start:\n    addi r1, r2, 70000\n    bogus\n", "bad.S", in: directory)
        let run = try Run("lm32as", [source], in: directory)
        #expect(run.status == 1)
        let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "\(source):2:18: error: 70000 is out of range for a signed 16-bit value (-32768 to 32767); hi()/lo() take the halves of a 32-bit value")
        #expect(lines[1] == "    addi r1, r2, 70000")
        #expect(lines[2] == "                 ^~~~~")
        #expect(lines[3] == "\(source):3:5: error: unknown instruction 'bogus' (did you mean 'bgu'?)")
        #expect(run.stderr.hasSuffix("2 errors generated.\n"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("bad.elf").path))

        let missing = try Run("lm32as", ["nowhere.S"], in: directory)
        #expect(missing.status == 1 && missing.stderr.hasPrefix("nowhere.S: error: cannot read file:"), "\(missing.stderr)")
        let badDefinition = try Run("lm32as", ["-D", "1X=2", source], in: directory)
        #expect(badDefinition.status == 64 && badDefinition.stderr.contains("'1X' is not a symbol name"), "\(badDefinition.stderr)")
        let badAddress = try Run("lm32as", ["--text-address", "0x1_0000_0000", source], in: directory)
        #expect(badAddress.status == 64 && badAddress.stderr.contains("--text-address '0x1_0000_0000' is not a 32-bit address"), "\(badAddress.stderr)")
    }
}
