import ELF32
import Foundation
import LM32Sim
import Synth
import Testing
import TestSupport

/// Generated programs run on our simulator and on gdb's LM32 simulator (lm32-elf-run); each
/// ends by writing its scratch memory and registers r1-r27 to stdout (newlib write) and
/// exiting, so the two outputs and exit statuses must be byte-identical. The programs keep to
/// what both are specified to agree on: no shifts by more than 31 (C's undefined behaviour in
/// gdb's simulator), no division by zero, no CSRs, no eret/bret, aligned accesses only.
@Suite struct DifferentialTests {
    static let registerOps = ["add", "sub", "and", "or", "xor", "nor", "xnor", "mul",
                              "cmpe", "cmpne", "cmpg", "cmpge", "cmpgu", "cmpgeu"]
    static let signedImmediateOps = ["addi", "muli", "cmpei", "cmpnei", "cmpgi", "cmpgei"]
    static let unsignedImmediateOps = ["andi", "ori", "xori", "nori", "xnori", "cmpgui", "cmpgeui", "andhi", "orhi"]
    static let branches = ["be", "bne", "bg", "bge", "bgu", "bgeu"]

    /// A program of `length` random instructions, in GNU as syntax for lm32-elf.
    static func program(seed: UInt64, length: Int) -> String {
        var random = SplitMix64(seed: seed)
        func reg() -> String { "r\(1 + random.below(25))" }              // r1..r25 (r26, r27 scratch)
        func any() -> String { "r\(random.below(28))" }
        var lines = ["\t.global _start", "\t.global _fstack", "\t.set _fstack, 0xffff0", "\t.text", "_start:",
                     "\tmvhi r28, hi(area)", "\tori r28, r28, lo(area)"]
        for k in 1...27 {
            lines.append("\tmvhi r\(k), 0x\(String(random.next() & 0xffff, radix: 16))")
            lines.append("\tori r\(k), r\(k), 0x\(String(random.next() & 0xffff, radix: 16))")
        }
        var label = 0
        for _ in 0..<length {
            switch random.below(16) {
            case 0, 1, 2: lines.append("\t\(random.pick(registerOps)) \(reg()), \(any()), \(any())")
            case 3, 4: lines.append("\t\(random.pick(signedImmediateOps)) \(reg()), \(any()), \(random.below(65536) - 32768)")
            case 5: lines.append("\t\(random.pick(unsignedImmediateOps)) \(reg()), \(any()), 0x\(String(random.below(65536), radix: 16))")
            case 6:
                lines.append("\t\(random.pick(["sli", "sri", "srui"])) \(reg()), \(any()), \(random.below(32))")
                lines.append("\tandi r26, \(any()), 31")
                lines.append("\t\(random.pick(["sl", "sr", "sru"])) \(reg()), \(any()), r26")
            case 7:
                lines.append("\tori r26, \(any()), \(1 + random.below(100))")   // a divisor that is never zero
                lines.append("\t\(random.pick(["divu", "modu"])) \(reg()), \(any()), r26")
            case 8: lines.append("\t\(random.pick(["sextb", "sexth"])) \(reg()), \(any())")
            case 9, 10:
                let (op, size) = random.pick([("lw", 4), ("lh", 2), ("lhu", 2), ("lb", 1), ("lbu", 1)])
                lines.append("\t\(op) \(reg()), (r28+\(random.below(256 / size) * size))")
            case 11, 12:
                let (op, size) = random.pick([("sw", 4), ("sh", 2), ("sb", 1)])
                lines.append("\t\(op) (r28+\(random.below(256 / size) * size)), \(any())")
            case 13:
                label += 1
                lines.append("\t\(random.pick(branches)) \(any()), \(any()), L\(label)")
                for _ in 0...random.below(3) { lines.append("\t\(random.pick(registerOps)) \(reg()), \(any()), \(any())") }
                lines.append("L\(label):")
            case 14: lines.append("\tcalli F\(random.below(3))")
            default:
                let function = random.below(3)
                lines.append("\tmvhi r27, hi(F\(function))")
                lines.append("\tori r27, r27, lo(F\(function))")
                lines.append("\tcall r27")
            }
        }
        for k in 1...27 { lines.append("\tsw (r28+\(256 + 4 * (k - 1))), r\(k)") }
        lines += ["\tmvi r1, 1", "\tmv r2, r28", "\tmvi r3, \(256 + 27 * 4)", "\tmvi r8, 5", "\tscall",
                  "\tlw r1, (r28+256)", "\tmvi r8, 1", "\tscall"]
        for f in 0..<3 {
            lines.append("F\(f):")
            for _ in 0..<(1 + f) { lines.append("\t\(random.pick(registerOps)) \(reg()), \(any()), \(any())") }
            lines.append("\tret")
        }
        lines += ["\t.data", "\t.align 4", "area:"]
        for _ in 0..<(256 / 4) { lines.append("\t.word 0x\(String(random.next() & 0xffff_ffff, radix: 16))") }
        lines.append("\t.space \(27 * 4)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Assembles and links with the reference tools.
    static func build(_ source: String, in directory: URL, name: String) throws -> URL {
        let sourceURL = directory.appendingPathComponent("\(name).S")
        let object = directory.appendingPathComponent("\(name).o"), executable = directory.appendingPathComponent(name)
        try source.write(to: sourceURL, atomically: true, encoding: .utf8)
        let assembled = try Run(LM32Toolchain.tool("lm32-elf-as"), [sourceURL.path, "-o", object.path])
        #expect(assembled.status == 0, "\(assembled.stderr)")
        let linked = try Run(LM32Toolchain.tool("lm32-elf-ld"), ["-Ttext=0", object.path, "-o", executable.path])
        #expect(linked.status == 0, "\(linked.stderr)")
        return executable
    }

    /// Runs an executable on our simulator with gdb's host-call environment.
    static func runOurs(_ executable: URL) throws -> (output: [UInt8], status: UInt32?) {
        let file = try ELF32File(parsing: [UInt8](Data(contentsOf: executable)))
        let bus = Bus()
        try bus.attach(Memory(size: 0x10_0000), at: 0, size: 0x10_0000, name: "ram")
        try bus.load(file)
        let cpu = LM32CPU(bus: bus, resetVector: file.entry)
        cpu.hostCalls = true
        guard case .exited(let status) = cpu.run(budget: 1_000_000) else { return (cpu.hostOutput, nil) }
        return (cpu.hostOutput, status)
    }

    @Test(.enabled(if: LM32Toolchain.shouldRun, "needs scripts/build-lm32-toolchain.sh"))
    func generatedProgramsAgreeWithGDBsSimulator() throws {
        _ = try #require(LM32Toolchain.bin, "the reference lm32 tools are missing: run scripts/build-lm32-toolchain.sh")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for seed in UInt64(1)...40 {
            let executable = try Self.build(Self.program(seed: seed, length: 120), in: directory, name: "p\(seed)")
            let ours = try Self.runOurs(executable)
            let theirs = try Run(LM32Toolchain.tool("lm32-elf-run"), [executable.path])
            #expect(ours.output.count == 256 + 27 * 4, "seed \(seed): our program wrote \(ours.output.count) bytes")
            let reference = [UInt8](theirs.stdoutBytes)
            let firstDifference = zip(ours.output, reference).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(ours.output.count == reference.count && firstDifference == nil,
                    "seed \(seed): differs from gdb's simulator at byte \(firstDifference ?? -1) (\(firstDifference.map { $0 >= 256 ? "r\(($0 - 256) / 4 + 1)" : "scratch memory" } ?? "length"))")
            #expect(ours.status.map { Int32($0 & 0xff) } == theirs.status, "seed \(seed): exit status differs")
        }
    }
}

extension SplitMix64 {
    mutating func below(_ n: Int) -> Int { Int(below(UInt64(n))) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
