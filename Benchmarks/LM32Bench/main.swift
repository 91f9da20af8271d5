// LM32 simulator speed on a loop with loads, stores, calls and branches (as issue 5 asks).
//   lm32-bench [instructions]     the built-in loop, run for a fixed number of instructions
//   lm32-bench --elf loop.elf     an lm32-elf executable, run until it calls exit (scall, r8 = 1)
//                                 as under gdb's simulator; Benchmarks/lm32.sh runs both
import ELF32
import Foundation
import LM32ISA
import LM32Sim

func rr(_ op: UInt8, _ x: UInt8, _ y: UInt8, _ z: UInt8) -> UInt32 { LM32Instruction.registers(op, rX: x, rY: y, rZ: z).word }
func ri(_ op: UInt8, _ x: UInt8, _ y: UInt8, _ imm: UInt16) -> UInt32 { LM32Instruction.immediate(op, rX: x, rY: y, imm16: imm).word }

// 0x00: mvi r1, 0 ; mvhi r5, 0x7fff (loop count) ; mvi sp, 0x2000
// loop (0x0c): lw r2,(sp+0); addi r2,r2,1; sw (sp+0),r2; calli f; addi r1,r1,1; bne r1,r5,loop
// f: lw r3,(sp+4); add r3,r3,r2; sw (sp+4),r3; ret
let builtIn: [UInt32] = [
    ri(0x0d, 1, 0, 0), ri(0x1e, 5, 0, 0x7fff), ri(0x0d, 28, 0, 0x2000),
    ri(0x0a, 2, 28, 0), ri(0x0d, 2, 2, 1), ri(0x16, 2, 28, 0),
    0xf800_0003,                                   // calli +12
    ri(0x0d, 1, 1, 1), 0x5c25_fffa,                // addi r1,r1,1; bne r1,r5,-24 (loop)
    ri(0x0a, 3, 28, 4), rr(0x2d, 3, 3, 2), ri(0x16, 3, 28, 4), 0xc3a0_0000,
]

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

let arguments = Array(CommandLine.arguments.dropFirst())
let bus = Bus()
let ram = Memory(size: 0x10_0000)
try! bus.attach(ram, at: 0, size: 0x10_0000, name: "ram")

if arguments.first == "--elf", arguments.count == 2 {
    let file: ELF32File
    do {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: arguments[1])))
        file = try ELF32File(parsing: bytes)
        try bus.load(file)
    } catch {
        FileHandle.standardError.write(Data("lm32-bench: \(arguments[1]): \(error)\n".utf8))
        exit(1)
    }
    let cpu = LM32CPU(bus: bus, resetVector: file.entry)
    cpu.hostCalls = true
    let start = ContinuousClock.now
    let stop = cpu.run(budget: .max)
    let elapsed = seconds(ContinuousClock.now - start)
    guard case .exited(let status) = stop else {
        FileHandle.standardError.write(Data("lm32-bench: stopped without exit: \(stop)\n".utf8))
        exit(1)
    }
    print(String(format: "eric-lm32 instructions=%llu seconds=%.3f rate=%.1fM/s cycles=%llu exit=%u",
                 cpu.instructions, elapsed, Double(cpu.instructions) / elapsed / 1e6, cpu.cycles, status & 0xff))
} else {
    let budget = UInt64(arguments.first.flatMap { UInt64($0) } ?? 50_000_000)
    ram.load(builtIn.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> UInt32(24 - 8 * $0)) } }, at: 0)
    let cpu = LM32CPU(bus: bus)
    let start = ContinuousClock.now
    let stop = cpu.run(budget: budget)
    let elapsed = seconds(ContinuousClock.now - start)
    precondition(stop == .budget && cpu.instructions == budget, "ran wrong: \(stop)")
    print(String(format: "lm32 instructions=%llu seconds=%.3f rate=%.1fM/s cycles=%llu", budget, elapsed, Double(budget) / elapsed / 1e6, cpu.cycles))
}
