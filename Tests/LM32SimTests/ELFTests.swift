import ELF32
import Foundation
import LM32Sim
import Testing
import TestSupport

@Suite struct ELFTests {
    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
    static func be32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> UInt32(24 - 8 * $0)) } }

    /// A minimal executable written field by field from the System V ABI tables: one PT_LOAD
    /// of 8 file bytes at 0x100 with a 16-byte memory image, entry 0x104, no sections.
    static func minimal(machine: UInt16 = 138) -> [UInt8] {
        var b: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 1, 2, 1, 0] + [UInt8](repeating: 0, count: 8)
        b += be16(2) + be16(machine) + be32(1)          // ET_EXEC, e_machine, EV_CURRENT
        b += be32(0x104) + be32(52) + be32(0)           // entry, phoff, shoff
        b += be32(0) + be16(52) + be16(32) + be16(1)    // flags, ehsize, phentsize, phnum
        b += be16(40) + be16(0) + be16(0)               // shentsize, shnum, shstrndx
        b += be32(1) + be32(84) + be32(0x100) + be32(0x100) + be32(8) + be32(16) + be32(5) + be32(4)
        b += [0x34, 0x01, 0x00, 0x2a, 0xac, 0x00, 0x00, 0x07]   // mvi r1, 42 ; scall
        return b
    }

    @Test func readsTheHeaderAndSegments() throws {
        let file = try ELF32File(parsing: Self.minimal())
        #expect(file.entry == 0x104)
        #expect(file.segments == [ELF32File.Segment(address: 0x100, data: [0x34, 0x01, 0x00, 0x2a, 0xac, 0x00, 0x00, 0x07], memorySize: 16, flags: 5,
                                                          index: 0, headerOffset: 52)])   // the program header follows the 52-byte ELF header
    }

    @Test func rejectsBadFilesWithTheirOffset() {
        func error(_ bytes: [UInt8]) -> ELF32Error? {
            do { _ = try ELF32File(parsing: bytes); return nil } catch { return error }
        }
        #expect(error(Array(Self.minimal().prefix(40)))?.description == "byte 40: file too short for an ELF header (52 bytes)")
        var notELF = Self.minimal(); notELF[1] = 0x46
        #expect(error(notELF)?.offset == 0)
        var class64 = Self.minimal(); class64[4] = 2
        #expect(error(class64)?.description == "byte 4: expected a 32-bit ELF file (EI_CLASS 1), found 2")
        var little = Self.minimal(); little[5] = 1
        #expect(error(little)?.offset == 5)
        #expect(error(Self.minimal(machine: 62))?.description == "byte 18: expected e_machine 138 (LatticeMico32), found 62")
        let truncated = Array(Self.minimal().dropLast(3))
        #expect(error(truncated)?.description == "byte 56: segment 0: bytes 84+8 lie past the end of the file (89 bytes)")
    }

    @Test func loadsSegmentsAndZeroFillsTheirTails() throws {
        let bus = Bus()
        let ram = Memory(size: 0x200)
        try bus.attach(ram, at: 0, size: 0x200, name: "ram")
        ram.load([UInt8](repeating: 0xee, count: 0x200), at: 0)
        try bus.load(ELF32File(parsing: Self.minimal()))
        #expect(Array(ram.bytes[0x100..<0x110]) == [0x34, 0x01, 0x00, 0x2a, 0xac, 0x00, 0x00, 0x07] + [UInt8](repeating: 0, count: 8))
        #expect(ram.bytes[0xff] == 0xee && ram.bytes[0x110] == 0xee)
        let outside = Bus()
        #expect(throws: BusError.self) { try outside.load(ELF32File(parsing: Self.minimal())) }
    }

    @Test func hostCallsWriteAndExitAsGDBsSimulatorDoes() throws {
        // mvi r1,1 ; mvi r2,0x40 ; mvi r3,3 ; mvi r8,5 ; scall ; mvi r1,7 ; mvi r8,1 ; scall
        let words: [UInt32] = [0x3401_0001, 0x3402_0040, 0x3403_0003, 0x3408_0005, 0xac00_0007, 0x3401_0007, 0x3408_0001, 0xac00_0007]
        let bus = Bus()
        let ram = Memory(size: 0x100)
        try bus.attach(ram, at: 0, size: 0x100, name: "ram")
        try bus.load(words.flatMap(Self.be32) + [UInt8](repeating: 0, count: 0x20) + Array("hi\n".utf8), at: 0)
        let cpu = LM32CPU(bus: bus)
        cpu.hostCalls = true
        #expect(cpu.run(budget: 100) == .exited(status: 7))
        #expect(cpu.hostOutput == Array("hi\n".utf8))
        #expect(cpu.instructions == 8)
        // Without host calls, scall is the system-call exception (EID 7) with ea at the scall.
        let plain = LM32CPU(bus: bus)
        #expect(plain.run(budget: 5) == .budget)
        #expect(plain.pc == 7 * 32 && plain.registers[30] == 16)
    }

    @Test(.enabled(if: LM32Toolchain.shouldRun, "needs scripts/build-lm32-toolchain.sh"))
    func readsWhatGNULdWritesAsReadelfDoes() throws {
        _ = try #require(LM32Toolchain.bin, "the reference lm32 tools are missing: run scripts/build-lm32-toolchain.sh")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let object = directory.appendingPathComponent("loop.o"), executable = directory.appendingPathComponent("loop")
        let source = packageRoot.appendingPathComponent("Benchmarks/lm32/loop.S").path
        #expect(try Run(LM32Toolchain.tool("lm32-elf-as"), ["--defsym", "ITERATIONS=1000", source, "-o", object.path]).status == 0)
        #expect(try Run(LM32Toolchain.tool("lm32-elf-ld"), ["-Ttext=0x400", object.path, "-o", executable.path]).status == 0)
        let file = try ELF32File(parsing: [UInt8](Data(contentsOf: executable)))
        // The reference: readelf's program headers (LOAD offset vaddr paddr filesz memsz) and symbols.
        let headers = try Run(LM32Toolchain.tool("lm32-elf-readelf"), ["-lW", executable.path]).stdout
        let loads = headers.split(separator: "\n").filter { $0.hasPrefix("  LOAD") }.map { $0.split(separator: " ") }
        #expect(file.segments.map { "0x" + String(format: "%08x", $0.address) } == loads.map { String($0[2]) })
        #expect(file.segments.map { "0x" + String(format: "%05x", $0.memorySize) } == loads.map { String($0[5]) })
        let symbols = try Run(LM32Toolchain.tool("lm32-elf-readelf"), ["-sW", executable.path]).stdout
        for name in ["_start", "loop", "f", "stack"] {
            let row = try #require(symbols.split(separator: "\n").map { $0.split(separator: " ") }.first { $0.last.map(String.init) == name })
            #expect(file.symbol(named: name).map { String(format: "%08x", $0.value) } == String(row[1]), "symbol \(name)")
        }
        let header = try Run(LM32Toolchain.tool("lm32-elf-readelf"), ["-hW", executable.path]).stdout
        #expect(header.contains("Entry point address:               0x\(String(file.entry, radix: 16))"))
        #expect(file.entry == 0x400)
    }
}
