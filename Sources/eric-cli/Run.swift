import AsmKit
import AlertProtocol
import ArgumentParser
import CLISupport
import Capture
import Dumps
import ELF32
import EricSoC
import Foundation
import GDBRemote
import LM32Asm
import LM32Sim
import MPUSim
import Sealing
import ShippedAutomata

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Boot the ERIC SoC over a memory dump, or run a bare LM32 program; optionally under GDB.",
        discussion: """
            With a memory dump (raw, LiME or ELF core), the SoC boots its firmware (the built-in \
            firmware/eric.S, or --firmware), which loads the shipped automata into the MPU and \
            checks every page; its console (the UART) goes to standard output. See docs/soc.md. \
            Exit status (from the firmware's summary record): 0 every page checked and no \
            alert, 1 alerts, 3 no alert but some runs faulted, 2 an error (the sweep did not \
            finish, or there was nothing to scan).
              eric run Fixtures/dumps/example.raw

            With an lm32-elf executable, the bare CPU runs it from its entry, RAM from address 0 \
            (--ram-size). scall performs newlib system calls as gdb's simulator (lm32-elf-run) \
            does: r8 = 1 exits with status r1, r8 = 5 writes to standard output. The exit status \
            of eric is the program's.

            With --gdb, a GDB remote stub listens (QEMU's syntax: tcp::1234 for 127.0.0.1, \
            tcp:0.0.0.0:1234 for every interface); with -S the CPU waits at reset for the \
            debugger, otherwise it runs and a debugger may attach (the CPU stops when it does).
              eric run -S --gdb tcp::1234 firmware.elf
              lm32-elf-gdb firmware.elf -ex 'target remote :1234'
            """)

    @Argument(help: "A memory dump to check, or an lm32-elf executable to run on the bare CPU.")
    var input: String

    @Option(help: ArgumentHelp("SoC firmware: an lm32-elf executable (default: the built-in firmware/eric.S).", valueName: "file"))
    var firmware: String?

    @Option(help: ArgumentHelp("Write the SoC's Ethernet frames (the alerts, docs/protocol.md) to this pcap file, stamped with the simulated clock.", valueName: "file"))
    var pcap: String?

    @Option(help: ArgumentHelp("Where the SoC's console (UART) goes: stdio, file:PATH, or tcp::PORT / tcp:HOST:PORT (waits for a terminal client, whose keys reach the UART).", valueName: "target"))
    var serial: String = "stdio"

    @Option(help: ArgumentHelp("Send each alert record to a collector as it is made (udp://HOST:PORT; see eric listen).", valueName: "url"))
    var alerts: String?

    @Option(help: ArgumentHelp("Serve the control channel on this address (udp://HOST:PORT, port 0 for any): the firmware waits for eric push (sealed automata, start, shutdown; docs/protocol.md) instead of sweeping once.", valueName: "url"))
    var control: String?

    @Option(help: ArgumentHelp("The board's device key file (eric keygen): its checker then takes sealed bundles and its records are authenticated (docs/security.md).", valueName: "file"))
    var key: String?

    @Option(help: ArgumentHelp("With --key: the boot nonce the checker draws at reset (default: a random one), 16 hex digits; only to reproduce a run's records byte for byte, never on a board in service.", valueName: "hex"))
    var bootNonce: String?

    @Option(help: ArgumentHelp("Serve the GDB remote protocol (tcp::PORT or tcp:HOST:PORT).", valueName: "address"))
    var gdb: String?

    @Flag(name: .customShort("S"), help: "Halt at reset until a debugger continues (needs --gdb).")
    var haltAtReset = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Size of the RAM at address 0 of the bare CPU (K/M suffixes).", valueName: "bytes"))
    var ramSize: String = "16M"

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop with an error after this many instructions.", valueName: "count"))
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
        rejectForeignExecutable(input)
        if let program = lm32Executable(input) {
            try runBare(program)
        } else {
            try runSoC()
        }
    }

    /// The input as an lm32-elf executable, or nil when it is something else (a dump).
    func lm32Executable(_ path: String) -> ELF32File? {
        // Unreadable or not a file: let the dump reader say why, as `eric scan` does. The
        // header first: a dump is not read whole to learn that it is not an executable.
        let head = Self.head(path, 20)
        guard head.count >= 20, head.starts(with: [0x7f, 0x45, 0x4c, 0x46]), head[18] == 0, head[19] == 138,
              case .success(let bytes) = readFile(path, limit: Self.executableLimit) else { return nil }
        return parseExecutable(bytes, path: path)
    }

    /// The first `count` bytes of a file (fewer when it is shorter or unreadable).
    static func head(_ path: String, _ count: Int) -> [UInt8] {
        guard let file = fopen(path, "rb") else { return [] }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: count)
        let read = fread(&bytes, 1, count, file)
        return Array(bytes.prefix(read))
    }

    /// An ELF executable for another processor is neither input `eric run` takes: say so,
    /// rather than that it is not a core dump.
    func rejectForeignExecutable(_ path: String) {
        let head = Self.head(path, 20)
        guard head.count >= 20, head.starts(with: [0x7f, 0x45, 0x4c, 0x46]) else { return }
        let type = head[5] == 2 ? UInt16(head[16]) << 8 | UInt16(head[17]) : UInt16(head[17]) << 8 | UInt16(head[16])
        let machine = head[5] == 2 ? UInt16(head[18]) << 8 | UInt16(head[19]) : UInt16(head[19]) << 8 | UInt16(head[18])
        guard type != 4, machine != 138 else { return }     // a core dump, or the LM32's own
        Console.fail("\(path): error: at byte 18: an ELF file for machine \(machine), neither an lm32-elf executable (e_machine 138) to run on the LM32 nor a core dump (e_type 4) to check", code: 2)
    }

    /// An lm32-elf executable is at most the LM32's memory; a larger file is not one.
    static let executableLimit = 256 << 20

    func loadExecutable(_ path: String) -> ELF32File {
        switch readFile(path, limit: Self.executableLimit) {
        case .success(let bytes): return parseExecutable(bytes, path: path)
        case .failure(let reason): Console.fail("\(path): error: cannot read: \(reason)", code: 2)
        }
    }

    func parseExecutable(_ bytes: [UInt8], path: String) -> ELF32File {
        do {
            return try ELF32File(parsing: bytes)
        } catch {
            Console.fail("\(path): error: \(error)", code: 2)
        }
    }

    // MARK: The SoC over a dump

    func runSoC() throws {
        let dump = openDump(input)
        let firmwareFile: ELF32File
        if let firmware {
            firmwareFile = loadExecutable(firmware)
        } else {
            let built = LM32Assembler.assemble(source: ShippedFirmware.source, name: "<built-in>/firmware/eric.S")
            for diagnostic in built.diagnostics { Console.error(diagnostic.rendered()) }
            guard let program = built.program, let file = try? ELF32File(parsing: program.elf()) else {
                Console.fail("eric: error: the built-in firmware does not assemble", code: 2)
            }
            firmwareFile = file
        }
        let console = MachineOutput()
        let terminal = openSerial(console)
        var capture: CaptureWriter?
        if let pcap {
            do { capture = try CaptureWriter(path: pcap) } catch { Console.fail("eric: error: --pcap: \(error)", code: 2) }
        }
        // Frames are stamped with the simulated clock (epoch 0), so a capture is reproducible.
        var collector: UDPSocket?
        if let alerts {
            do {
                let (host, port) = try UDPSocket.parse(alerts)
                collector = try UDPSocket(sendingTo: host, port: port)
            } catch { Console.fail("eric: error: --alerts: \(error)", code: 2) }
        }
        var configuration = SoC.Configuration()
        configuration.controlChannel = control != nil
        configuration.key = key.map(loadDeviceKey)
        if let bootNonce {
            guard key != nil else { Console.fail("eric: error: --boot-nonce needs --key (a board without a key authenticates nothing)", code: 2) }
            let digits = bootNonce.hasPrefix("0x") ? String(bootNonce.dropFirst(2)) : bootNonce
            guard (1...16).contains(digits.count), let value = UInt64(digits, radix: 16) else {
                Console.fail("eric: error: --boot-nonce '\(bootNonce)': expected 1 to 16 hexadecimal digits", code: 2)
            }
            configuration.bootNonce = value
        }
        // The control channel: datagrams from operators become frames on the board's wire (from
        // the operator's station, a port per sender), and the firmware's answers go back.
        var channel: UDPSocket?
        if let control {
            do {
                let (host, port) = try UDPSocket.parse(control)
                let socket = try UDPSocket(listeningOn: host, port: port)
                channel = socket
                Console.error("eric: control channel on udp://\(host):\(socket.port)")
            } catch { Console.fail("eric: error: --control: \(error)", code: 2) }
        }
        final class Peers { var ports: [UInt16: UDPSocket.Peer] = [:]; var byPeer: [UDPSocket.Peer: UInt16] = [:]; var dropped = 0 }
        let peers = Peers()
        final class ClockSource { var cpu: LM32CPU?; var unsent = 0; var summary: AlertRecord? }
        let clock = ClockSource()
        let clockHz: UInt64 = SoC.Configuration().clockHz
        let soc: SoC
        do {
            soc = try SoC(firmware: firmwareFile, host: dump, configuration: configuration, console: { console.bytes.append($0) }, frames: { frame in
                let cycles = clock.cpu?.cycles ?? 0
                capture?.write(frame, nanoseconds: UInt64((Double(cycles) * 1e9 / Double(clockHz)).rounded()))
                let udp = try? UDPFrame(frame: frame)
                if let channel, let udp, udp.sourcePort == ControlMessage.port {
                    if let peer = peers.ports[udp.destinationPort], !channel.send(udp.payload, to: peer) { clock.unsent += 1 }
                    return
                }
                if let collector, let udp, !collector.send(udp.payload) { clock.unsent += 1 }
                if let udp, let record = try? AlertRecord(payload: udp.payload), record.kind == .summary { clock.summary = record }
            })
        } catch {
            Console.fail("\(firmware ?? "<built-in>/firmware/eric.S"): error: \(error) (the SoC's ROM is 0x0-0x\(String(SoC.Configuration().romSize, radix: 16)), its RAM 0x\(String(SoC.Address.ram, radix: 16))+0x\(String(SoC.Configuration().ramSize, radix: 16)); docs/soc.md)", code: 2)
        }
        // A board on the control channel starts with no automata: its sets arrive sealed, and none
        // lies in clear in its ROM (docs/security.md).
        if control == nil {
            do {
                try soc.installAutomata(shippedAutomata())
            } catch {
                Console.fail("eric: error: \(error)", code: 2)
            }
        }
        clock.cpu = soc.cpu
        let runMachine: (UInt64) -> LM32Stop = { budget in
            switch soc.run(budget: budget) {
            case .shutdown:
                // The sweep's outcome, as `eric scan` reports its own: 0 every page checked and no
                // alert, 1 alerts, 3 some runs faulted; an error when the sweep did not finish.
                guard let summary = clock.summary else {
                    capture?.close()
                    Console.fail("\(input): error: the firmware shut down without finishing its sweep (no summary record; its console says why)", code: 2)
                }
                if summary.value > 0 { return .exited(status: 1) }
                if summary.faults > 0 && summary.faults >= summary.runs {
                    capture?.close()
                    Console.fail("\(input): error: nothing was checked: every one of the \(summary.runs) runs faulted", code: 2)
                }
                if summary.page == 0 {
                    capture?.close()
                    Console.fail("\(input): error: nothing to scan: no whole 4 KiB page in the dump (it holds \(extent(of: dump)))", code: 2)
                }
                return .exited(status: summary.faults > 0 ? 3 : 0)
            case .budget: return .budget
            case .cpu(let stop): return stop
            case .asleep where channel != nil:
                // Waiting for the control channel: the next datagram goes on the wire.
                guard let (bytes, peer) = channel!.receive(waiting: -1) else { return .budget }
                let port = peers.byPeer[peer] ?? {
                    let port = UInt16(40000 + peers.ports.count % 20000)
                    peers.ports[port] = peer
                    peers.byPeer[peer] = port
                    return port
                }()
                let frame = UDPFrame(sourceIP: UDPFrame.collectorIP, destinationIP: UDPFrame.deviceIP, sourcePort: port,
                                     destinationPort: ControlMessage.port, payload: bytes)
                let wire = frame.ethernetFrame(from: UDPFrame.operatorMAC, to: UDPFrame.deviceMAC)
                // The capture shows the wire both ways: the operator's messages too.
                capture?.write(wire, nanoseconds: UInt64((Double(soc.cpu.cycles) * 1e9 / Double(clockHz)).rounded()))
                if !soc.ethernet.receive(wire) { peers.dropped += 1 }
                return .budget
            case .asleep:
                capture?.close()
                let cpu = soc.cpu
                Console.fail("eric: error: the firmware went idle with nothing left to wake it (pc 0x\(String(cpu.pc, radix: 16)), IE \(cpu.ie), IM 0x\(String(cpu.im, radix: 16)), IP 0x\(String(cpu.ip, radix: 16)), lines 0x\(String(cpu.interruptLines, radix: 16)), checker status \(soc.checker.status))", code: 2)
            }
        }
        var machine = runMachine
        if let terminal {
            // Keys from the terminal client reach the UART between slices, one at a time (the
            // UART holds one byte until the firmware reads it).
            final class Keys { var pending: [UInt8] = [] }
            let keys = Keys()
            machine = { budget in
                keys.pending += terminal.readIfReady()
                while let byte = keys.pending.first, soc.uart.receive(byte) { keys.pending.removeFirst() }
                return runMachine(budget)
            }
        }
        execute(soc.cpu, run: machine, finally: {
            capture?.close()
            let errors = soc.ethernet.transmitErrors
            if !errors.isEmpty { Console.error("eric: warning: the firmware sent \(errors.count) malformed frame(s): \(errors.joined(separator: "; "))") }
            if clock.unsent > 0 { Console.error("eric: warning: \(clock.unsent) record(s) or answer(s) could not be sent") }
            if peers.dropped > 0 { Console.error("eric: warning: \(peers.dropped) control datagram(s) arrived with no receive slot ready (the sender retries)") }
        }, flush: console.flush)
    }

    // MARK: A bare LM32 program

    func runBare(_ file: ELF32File) throws {
        let size = UInt32(parseNumber(ramSize, allowSuffix: true)!)
        let bus = Bus()
        try bus.attach(Memory(size: Int(size)), at: 0, size: size, name: "ram")
        do { try bus.load(file) } catch { Console.fail("\(input): error: \(error) (RAM is 0x0-0x\(String(size, radix: 16)); see --ram-size)", code: 2) }
        let cpu = LM32CPU(bus: bus, resetVector: file.entry)
        cpu.hostCalls = true
        let output = MachineOutput()
        execute(cpu, run: { cpu.run(budget: $0) }, finally: {}, flush: {
            output.bytes += cpu.hostOutput
            cpu.hostOutput.removeAll(keepingCapacity: true)
            output.flush()
        })
    }

    /// Runs the machine in slices to its end, serving a debugger if asked; exits.
    func execute(_ cpu: LM32CPU, run runMachine: @escaping (UInt64) -> LM32Stop, finally: @escaping () -> Void = {},
                 flush: @escaping () -> Void) -> Never {
        let finish = { (status: UInt32) -> Never in
            finally()
            self.finish(cpu, status: status)
        }
        var listener: TCPListener?
        if let gdb {
            do { listener = try TCPListener(specification: gdb) } catch { Console.fail("eric: error: --gdb: \(error)", code: 2) }
            Console.error("eric: waiting for gdb on \(listener!.host):\(listener!.port)" + (haltAtReset ? " (halted at reset)" : ""))
        }
        if haltAtReset, let listener {
            if let status = debug(cpu, run: runMachine, listener: listener, initialStop: .trap, flush: flush) { finish(status) }
        }
        while true {
            // Every step counts, an instruction or an exception taken instead of one: a CPU
            // that only takes exceptions (its vectors unmapped) must reach the limit too.
            let slice = min(1_000_000, maxInstructions.map { $0 > cpu.steps ? $0 - cpu.steps : 0 } ?? .max)
            if slice == 0 {
                flush()
                finally()
                let exceptions = cpu.exceptionSteps > 0 ? " and \(cpu.exceptionSteps) exceptions taken instead" : ""
                Console.fail("eric: error: stopped after \(cpu.instructions) instructions\(exceptions) (--max-instructions) at pc 0x\(String(cpu.pc, radix: 16))", code: 2)
            }
            let instructionsBefore = cpu.instructions, stepsBefore = cpu.steps
            let stop = runMachine(slice)
            flush()
            switch stop {
            case .budget:
                // Only exceptions for a whole slice: each entry fails again (vectors where no
                // memory is); the state no longer changes, so this would run forever.
                if cpu.instructions == instructionsBefore && cpu.steps - stepsBefore >= min(slice, 1_000_000) {
                    finally()
                    let exception = cpu.lastException.map { " (\($0))" } ?? ""
                    Console.fail("eric: error: the CPU is locked up: \(cpu.steps - stepsBefore) exceptions\(exception) in a row without an instruction, at pc 0x\(String(cpu.pc, radix: 16)) (EBA 0x\(String(cpu.eba, radix: 16)), DEBA 0x\(String(cpu.deba, radix: 16)): are the exception vectors in memory?)", code: 2)
                }
            case .exited(let status): finish(status)
            case .illegalInstruction(let pc, let word):
                finally()
                Console.fail("eric: error: illegal instruction 0x\(String(word, radix: 16)) at pc 0x\(String(pc, radix: 16))", code: 2)
            case .busError(let fault):
                finally()
                Console.fail("eric: error: bus error: \(fault) (the program's exception vector is at 0x\(String(cpu.pc, radix: 16)); no handler runs in this environment, as in lm32-elf-run)", code: 2)
            case .breakInstruction(let pc):
                finally()
                Console.fail("eric: error: break at pc 0x\(String(pc, radix: 16)) with no debugger attached", code: 2)
            }
            if let listener, listener.hasPendingConnection() {
                if let status = debug(cpu, run: runMachine, listener: listener, initialStop: .interrupted, flush: flush) { finish(status) }
            }
        }
    }

    /// One debugger session; returns the exit status if the program exited or was killed.
    func debug(_ cpu: LM32CPU, run: @escaping (UInt64) -> LM32Stop, listener: TCPListener, initialStop: StopReason, flush: @escaping () -> Void) -> UInt32? {
        let transport: FileDescriptorTransport
        do { transport = try listener.accept() } catch { Console.fail("eric: error: \(error)", code: 2) }
        let target = LM32DebugTarget(cpu: cpu, run: run)
        let end = serve(GDBSession(target: target, initialStop: initialStop), over: transport, afterSlice: flush)
        flush()
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

extension RunCommand {
    /// Sets where the console goes; returns the terminal connection for tcp targets.
    func openSerial(_ console: MachineOutput) -> FileDescriptorTransport? {
        if serial == "stdio" { return nil }
        if serial.hasPrefix("file:") {
            let path = String(serial.dropFirst(5))
            let file: OutputFile
            do { file = try OutputFile(path) } catch { Console.fail("\(path): error: --serial: cannot write: \(error.reason)", code: 2) }
            console.sink = { bytes in
                do throws(FileFailure) { try file.write(bytes) } catch { Console.fail("\(path): error: --serial: \(error.reason)", code: 2) }
            }
            return nil
        }
        guard serial.hasPrefix("tcp:") else { Console.fail("eric: error: --serial: expected stdio, file:PATH or tcp::PORT, found '\(serial)'", code: 2) }
        do {
            let listener = try TCPListener(specification: serial)
            Console.error("eric: waiting for a serial client on \(listener.host):\(listener.port)")
            let terminal = try listener.accept()
            console.sink = { terminal.write($0) }
            return terminal
        } catch {
            Console.fail("eric: error: --serial: \(error)", code: 2)
        }
    }
}

/// Output the machine produced (host calls, the UART), passed on between slices.
final class MachineOutput {
    var bytes: [UInt8] = []
    var sink: ([UInt8]) -> Void = { FileHandle.standardOutput.write(Data($0)) }
    func flush() {
        guard !bytes.isEmpty else { return }
        sink(bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}
