import ArgumentParser
import CLISupport
import ELF32
import Foundation
import GDBRemote
import LM32Sim

#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an LM32 program (lm32-elf executable) on the simulated CPU, optionally under GDB.",
        discussion: """
            The machine is RAM from address 0 and the CPU starts at the executable's entry.
            scall performs newlib system calls as gdb's simulator (lm32-elf-run) does: r8 = 1
            exits with status r1, r8 = 5 writes to standard output or error. The exit status
            of eric is the program's.

            With --gdb, a GDB remote stub listens (QEMU's syntax: tcp::1234 for 127.0.0.1,
            tcp:0.0.0.0:1234 for every interface); with -S the CPU waits at reset for the
            debugger, otherwise it runs and a debugger may attach (the CPU stops when it does).
              eric run -S --gdb tcp::1234 firmware.elf
              lm32-elf-gdb firmware.elf -ex 'target remote :1234'
            """)

    @Argument(help: "The program: an lm32-elf executable (as GNU ld or eric's assembler writes it).")
    var program: String

    @Option(help: ArgumentHelp("Serve the GDB remote protocol (tcp::PORT or tcp:HOST:PORT).", valueName: "address"))
    var gdb: String?

    @Flag(name: .customShort("S"), help: "Halt at reset until a debugger continues (needs --gdb).")
    var haltAtReset = false

    @Option(help: ArgumentHelp("Size of the RAM at address 0 (K/M suffixes).", valueName: "bytes"))
    var ramSize: String = "16M"

    @Option(help: ArgumentHelp("Stop with an error after this many instructions.", valueName: "count"))
    var maxInstructions: UInt64?

    @Flag(help: "Print the instruction and cycle counts on standard error at the end.")
    var stats = false

    func validate() throws {
        guard let size = parseNumber(ramSize, allowSuffix: true), size >= 4, size <= 0xffff_f000, size % 4 == 0 else {
            throw ValidationError("--ram-size '\(ramSize)' must be a multiple of 4 bytes up to 4 GiB - 4 KiB")
        }
        if haltAtReset && gdb == nil { throw ValidationError("-S halts for a debugger: give --gdb tcp::PORT too") }
    }

    func run() throws {
        let file: ELF32File
        do {
            file = try ELF32File(parsing: [UInt8](try Data(contentsOf: URL(fileURLWithPath: program))))
        } catch let error as ELF32Error {
            Console.fail("\(program): error: \(error)", code: 2)
        } catch {
            Console.fail("\(program): error: cannot read: \(error.localizedDescription)", code: 2)
        }
        let size = UInt32(parseNumber(ramSize, allowSuffix: true)!)
        let bus = Bus()
        try bus.attach(Memory(size: Int(size)), at: 0, size: size, name: "ram")
        do { try bus.load(file) } catch { Console.fail("\(program): error: \(error) (RAM is 0x0-0x\(String(size, radix: 16)); see --ram-size)", code: 2) }
        let cpu = LM32CPU(bus: bus, resetVector: file.entry)
        cpu.hostCalls = true

        var listener: TCPListener?
        if let gdb {
            do { listener = try TCPListener(specification: gdb) } catch { Console.fail("eric: error: --gdb: \(error)", code: 2) }
            Console.error("eric: waiting for gdb on \(listener!.host):\(listener!.port)" + (haltAtReset ? " (halted at reset)" : ""))
        }
        let output = OutputPump(cpu: cpu)
        if haltAtReset, let listener {
            if let status = debug(cpu, listener: listener, initialStop: .trap, output: output) { finish(cpu, status: status) }
        }
        while true {
            let slice = min(1_000_000, maxInstructions.map { $0 > cpu.instructions ? $0 - cpu.instructions : 0 } ?? .max)
            if slice == 0 {
                output.flush()
                Console.fail("eric: error: stopped after \(cpu.instructions) instructions (--max-instructions) at pc 0x\(String(cpu.pc, radix: 16))", code: 2)
            }
            let stop = cpu.run(budget: slice)
            output.flush()
            switch stop {
            case .budget: break
            case .exited(let status): finish(cpu, status: status)
            case .illegalInstruction(let pc, let word):
                Console.fail("eric: error: illegal instruction 0x\(String(word, radix: 16)) at pc 0x\(String(pc, radix: 16))", code: 2)
            case .breakInstruction(let pc):
                Console.fail("eric: error: break at pc 0x\(String(pc, radix: 16)) with no debugger attached", code: 2)
            }
            if let listener, listener.hasPendingConnection() {
                if let status = debug(cpu, listener: listener, initialStop: .interrupted, output: output) { finish(cpu, status: status) }
            }
        }
    }

    /// One debugger session; returns the exit status if the program exited or was killed.
    func debug(_ cpu: LM32CPU, listener: TCPListener, initialStop: StopReason, output: OutputPump) -> UInt32? {
        let transport: FileDescriptorTransport
        do { transport = try listener.accept() } catch { Console.fail("eric: error: \(error)", code: 2) }
        let target = LM32DebugTarget(cpu: cpu)
        let end = serve(GDBSession(target: target, initialStop: initialStop), over: transport, afterSlice: output.flush)
        output.flush()
        cpu.debuggerOwnsBreak = false
        switch end {
        case .detached: return nil
        case .killed: return 0
        case .exited(let status): return UInt32(status)
        }
    }

    func finish(_ cpu: LM32CPU, status: UInt32) -> Never {
        if stats { Console.error("eric: \(cpu.instructions) instructions, \(cpu.cycles) cycles") }
        Foundation.exit(Int32(truncatingIfNeeded: status & 0xff))
    }
}

/// Copies what the program writes through host calls to standard output as it runs.
final class OutputPump {
    let cpu: LM32CPU
    init(cpu: LM32CPU) { self.cpu = cpu }
    func flush() {
        guard !cpu.hostOutput.isEmpty else { return }
        FileHandle.standardOutput.write(Data(cpu.hostOutput))
        cpu.hostOutput.removeAll(keepingCapacity: true)
    }
}
