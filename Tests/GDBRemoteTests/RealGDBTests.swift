import ELF32
import Foundation
import Testing
import TestSupport

/// The real lm32-elf-gdb (scripts/build-lm32-toolchain.sh) in batch mode against
/// `eric run -S --gdb`: load, break, continue, step, registers, memory, exit.
@Suite struct RealGDBTests {
    static func build(iterations: Int, in directory: URL, name: String) throws -> URL {
        let object = directory.appendingPathComponent("\(name).o"), executable = directory.appendingPathComponent(name)
        let source = packageRoot.appendingPathComponent("Benchmarks/lm32/loop.S").path
        let assembled = try Run(LM32Toolchain.tool("lm32-elf-as"), ["-g", "--defsym", "ITERATIONS=\(iterations)", source, "-o", object.path])
        #expect(assembled.status == 0, "\(assembled.stderr)")
        let linked = try Run(LM32Toolchain.tool("lm32-elf-ld"), ["-Ttext=0", object.path, "-o", executable.path])
        #expect(linked.status == 0, "\(linked.stderr)")
        return executable
    }

    @Test(.enabled(if: LM32Toolchain.shouldRun, "needs scripts/build-lm32-toolchain.sh"), .timeLimit(.minutes(1)))
    func gdbLoadsBreaksStepsAndReads() throws {
        _ = try #require(LM32Toolchain.bin, "the reference lm32 tools are missing: run scripts/build-lm32-toolchain.sh")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // eric starts with one program; gdb loads another over it, whose exit status differs
        // (sum 1..1000 = 500500, low byte 20; sum 1..3 = 6), so `load` is what ran.
        let first = try Self.build(iterations: 1000, in: directory, name: "first")
        let loaded = try Self.build(iterations: 3, in: directory, name: "loaded")

        let eric = try Server("eric", ["run", "-S", "--gdb", "tcp::0", first.path])
        let port = try #require(eric.port, "no port in '\(eric.announcement)'")

        let commands = ["target remote :\(port)", "load", "break f", "continue", "info registers r2 sp ra pc",
                        "stepi", "info registers pc r3", "x/2wx &stack", "delete", "continue"]
        let gdb = try Run(LM32Toolchain.tool("lm32-elf-gdb"), ["-batch", "-nx", loaded.path] + commands.flatMap { ["-ex", $0] })
        eric.process.waitUntilExit()
        let log = gdb.stdout + gdb.stderr
        let rows = log.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        func register(_ name: String) -> [String] { rows.filter { $0.first.map(String.init) == name }.map { String($0[1]) } }
        // Values worked out from loop.S: first call to f after one iteration's lw/addi/sw.
        #expect(log.contains("Breakpoint 1, f ()"), "\(log)")
        #expect(register("r2") == ["0x1"])
        let stack = try #require(ELF32File(parsing: [UInt8](Data(contentsOf: loaded))).symbol(named: "stack")).value
        #expect(register("sp") == ["0x" + String(stack, radix: 16)])
        #expect(register("ra") == ["0x24"])                          // the instruction after calli
        #expect(register("pc") == ["0x38", "0x3c"])                  // f, then one stepi later
        #expect(register("r3") == ["0x0"])                           // lw r3,(sp+4) read the zero word
        #expect(log.contains("0x\(String(stack, radix: 16)):\t0x00000001\t0x00000000"), "\(log)")
        #expect(log.contains("exited with code 06"), "\(log)")
        #expect(eric.process.terminationStatus == 6)
    }
}
