import AlertProtocol
import AsmKit
import Capture
import Correlation
import Dumps
import ELF32
import EricSoC
import FirmwareCoverage
import Foundation
import GDBRemote
import Glibc
import Integrity
import LM32Asm
import LM32Sim
import MPUAsm
import MPUISA
import MPUSim
import Sealing
import ShippedAutomata

/// One libFuzzer entry point for every parser of outside input; ERIC_FUZZ_TARGET picks the
/// parser (Fuzz/run.sh sets it; docs/reliability.md lists them). A crash, a trap, an ASan
/// report, a time-out or an allocation over -rss_limit_mb is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    switch target {
    case "mpuas": fuzzMPUAssembler(bytes)
    case "mpu-image": fuzzMPUImage(bytes)
    case "lm32as": fuzzLM32Assembler(bytes)
    case "lm32-elf": fuzzLM32Executable(bytes)
    case "dump": fuzzDump(bytes)
    case "pcap": fuzzCapture(bytes)
    case "alert-record": fuzzAlertRecord(bytes)
    case "gdb-remote": fuzzGDBRemote(bytes)
    case "soc": fuzzSoCFirmware(bytes)
    case "host-state": fuzzHostState(bytes)
    case "sealed": fuzzSealed(bytes)
    case "control": fuzzControl(bytes)
    case "asan-check": readPastABlock(bytes.count)
    default:
        let message = "eric-fuzz: set ERIC_FUZZ_TARGET to one of: \(targets.joined(separator: ", "))\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
    return 0
}

/// Reads one byte past a heap block (Fuzz/run.sh checks that AddressSanitizer reports it:
/// a build without it in the Swift code must not pass for a fuzzing build).
@inline(never)
func readPastABlock(_ size: Int) {
    let block = UnsafeMutablePointer<UInt8>.allocate(capacity: max(size, 1))
    block.initialize(repeating: 0, count: max(size, 1))
    let past = block[max(size, 1)]
    block.deallocate()
    if past == 0x5a { print("") }   // keeps the read
}

let targets = ["mpuas", "mpu-image", "lm32as", "lm32-elf", "dump", "pcap", "alert-record", "gdb-remote", "soc", "host-state", "sealed", "control"]
let target = getenv("ERIC_FUZZ_TARGET").map { String(cString: $0) } ?? ""

/// MPU assembly: assemble; what assembles must disassemble and reassemble to the same image.
func fuzzMPUAssembler(_ bytes: UnsafeBufferPointer<UInt8>) {
    let result = MPUAssembler.assemble(source: String(decoding: bytes, as: UTF8.self), name: "fuzz.s",
                                       options: AssemblerOptions(provider: .inMemory([:])))
    guard let image = result.image else { return }
    checkRoundTrip(image)
}

/// `.mpu` images: parse, disassemble, reassemble, and run on a page. The checksum is made
/// right first (a mutation would almost never keep it), so the fuzzer reaches what follows it.
func fuzzMPUImage(_ bytes: UnsafeBufferPointer<UInt8>) {
    var file = Array(bytes)
    if file.count >= 20 {
        let crc = CRC32.checksum(file[0..<(file.count - 4)])
        for k in 0..<4 { file[file.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> UInt32(24 - 8 * k)) }
    }
    guard let image = try? MPUImage(parsing: file) else { return }
    // Images from elsewhere need not be in the assembler's canonical order (symbols sorted,
    // labels on instructions), so only the disassembly is checked to assemble, not the bytes.
    if let source = try? Disassembler.source(of: image) {
        _ = MPUAssembler.assemble(source: source, name: "roundtrip.s", options: AssemblerOptions(provider: .inMemory([:])))
    }
    var timing = TimingModel.slides
    timing.watchdogCycles = 20_000      // a bound per input, as the device's watchdog is
    var alerts: [Alert] = []
    page.withUnsafeBytes { page in
        _ = MPU(timing: timing).run(Automaton(image: image), page: page.baseAddress!, pageAddress: 0x1000, alerts: &alerts)
    }
}

let page: [UInt8] = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 37) }

/// `mpuas -d` then `mpuas` gives the image back, byte for byte.
func checkRoundTrip(_ image: MPUImage) {
    guard let source = try? Disassembler.source(of: image) else { return }
    let again = MPUAssembler.assemble(source: source, name: "roundtrip.s", options: AssemblerOptions(provider: .inMemory([:])))
    guard let reassembled = again.image, reassembled.serialized() == image.serialized() else {
        fatalError("round trip differs:\n\(source)\n\(again.diagnostics.map { $0.rendered() }.joined(separator: "\n"))")
    }
}

/// LM32 assembly: assemble; what assembles must give an ELF file our reader takes back.
func fuzzLM32Assembler(_ bytes: UnsafeBufferPointer<UInt8>) {
    let result = LM32Assembler.assemble(source: String(decoding: bytes, as: UTF8.self), name: "fuzz.S",
                                        options: AssemblerOptions(provider: .inMemory([:])))
    guard let program = result.program else { return }
    guard (try? ELF32File(parsing: program.elf())) != nil else { fatalError("lm32as wrote an ELF file it cannot read") }
}

/// lm32-elf executables: parse, load into 64 KiB of RAM, run 2,000 steps with
/// gdb-simulator host calls, as `eric run prog.elf` does.
func fuzzLM32Executable(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let file = try? ELF32File(parsing: Array(bytes)) else { return }
    let bus = Bus()
    try! bus.attach(Memory(size: 0x10000), at: 0, size: 0x10000, name: "ram")
    guard (try? bus.load(file)) != nil else { return }
    let cpu = LM32CPU(bus: bus, resetVector: file.entry)
    cpu.hostCalls = true
    _ = cpu.run(budget: 2_000)
}

/// Memory dumps (raw, LiME, ELF core, kdump-compressed): the layout, then the whole scan with the shipped
/// automata and the correlation over what it gives.
func fuzzDump(_ bytes: UnsafeBufferPointer<UInt8>) {
    // kdump-compressed: decompressed into a file of its own, so through the file path.
    if bytes.starts(with: Array("KDUMP   ".utf8)) || bytes.starts(with: Array("makedumpfile".utf8)) {
        inFile(bytes, "kdump") { path in
            if let dump = try? MappedDump(path: path) { _ = scan.run(dump, engines: engines) }
        }
        return
    }
    guard let base = bytes.baseAddress,
          let layout = try? DumpLayout(reading: UnsafeRawBufferPointer(bytes), path: "fuzz.dump") else { return }
    let memory = BufferMemory(ranges: layout.segments.map {
        MemoryRange(physicalStart: $0.physicalStart, length: $0.length, bytes: UnsafeRawPointer(base) + Int($0.fileOffset))
    })
    _ = scan.run(memory, engines: engines)
}

struct BufferMemory: PhysicalMemory, @unchecked Sendable {
    var ranges: [MemoryRange]
}

let shipped: [Automaton] = ShippedAutomata.sources.map { file, source in
    Automaton(image: MPUAssembler.assemble(source: source, name: file).image!, name: String(file.dropLast(2)))
}
nonisolated(unsafe) let scan = CorrelatedScan(automata: shipped, options: ScanOptions(jobs: 1, engine: .interpreter))
let engines = try! scan.scanner.prepare()

/// pcap captures, through libpcap, then each frame as an alert record.
func fuzzCapture(_ bytes: UnsafeBufferPointer<UInt8>) {
    inFile(bytes, "pcap") { path in
        guard let capture = try? readCapture(path: path) else { return }
        for frame in capture.frames { decodeRecord(frame.frame) }
    }
}

/// Runs `body` on a file in /dev/shm holding `bytes` (for readers that take a path).
func inFile(_ bytes: UnsafeBufferPointer<UInt8>, _ suffix: String, _ body: (String) -> Void) {
    let path = "/dev/shm/eric-fuzz-\(getpid()).\(suffix)"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("cannot write \(path)") }
    _ = write(fd, bytes.baseAddress, bytes.count)
    close(fd)
    defer { unlink(path) }
    body(path)
}

/// Alert records as they arrive over UDP, and in Ethernet frames; answers to the control
/// channel, evidence (READ, MAP) included, as a verifier receives them.
func fuzzAlertRecord(_ bytes: UnsafeBufferPointer<UInt8>) {
    decodeRecord(Array(bytes))
    _ = try? AlertRecord(payload: Array(bytes))
    _ = try? ControlReply(payload: Array(bytes))
    if let evidence = try? EvidenceReply(payload: Array(bytes)) { _ = evidence.signedBytes.count + evidence.evidence.count }
    // The input as a stream of authenticated records through the listener's audit. Random
    // bytes never carry a true HMAC, so the audit's tag check here lets through tags whose
    // first byte is even: the sequence bookkeeping (gaps, late, replayed) sees attacker numbers.
    var audit = RecordAudit { _, _, tag in tag.first.map { $0 & 1 == 0 } ?? false }
    let size = AlertRecord.size + AlertRecord.trailerSize
    var at = 0
    while at + size <= bytes.count {
        if let record = try? AlertRecord(payload: Array(bytes[at..<at + size])) { _ = audit.admit(record) }
        at += size
    }
    _ = audit.missing()
    _ = audit.unfinished()
}

func decodeRecord(_ frame: [UInt8]) {
    guard let udp = try? UDPFrame(frame: frame), let record = try? AlertRecord(payload: udp.payload) else { return }
    _ = record.kind
}

/// GDB remote packets: the framing layer, then the session over a small LM32 machine.
func fuzzGDBRemote(_ bytes: UnsafeBufferPointer<UInt8>) {
    let bus = Bus()
    try! bus.attach(Memory(size: 0x1000), at: 0, size: 0x1000, name: "ram")
    let cpu = LM32CPU(bus: bus)
    cpu.hostCalls = true
    let session = GDBSession(target: LM32DebugTarget(cpu: cpu, run: { cpu.run(budget: min($0, 1_000)) }))
    var decoder = PacketDecoder()
    for byte in bytes {
        guard case .packet(let payload)? = decoder.feed(byte) else { continue }
        switch session.handle(payload) {
        case .step: _ = session.target.step()
        case .resume: _ = session.target.resume(budget: 1_000)
        default: break
        }
    }
}

/// A firmware the SoC runs (its ROM at 0, entered at 0) over four pages of host memory with the
/// shipped automata installed: every device register the LM32 can reach (the checker's run
/// list, PAGE, program memory, the MAC's buffers and lengths, the UART, the timers) is fed
/// whatever the program writes, for 5,000 steps (a 4 KiB program reaches every register well within that).
func fuzzSoCFirmware(_ bytes: UnsafeBufferPointer<UInt8>) {
    let firmware = ELF32File(machine: 138, entry: 0, segments: [ELF32File.Segment(address: 0, data: Array(bytes), memorySize: UInt32(bytes.count), flags: 5)],
                             symbols: [])
    socHost.withUnsafeBytes { host in
        let memory = BufferMemory(ranges: [MemoryRange(physicalStart: 0x8000, length: UInt64(host.count), bytes: host.baseAddress!)])
        var configuration = SoC.Configuration()
        configuration.engine = .interpreter
        // Small memories: a 4 KiB firmware needs no more, and 17 MiB zeroed per input (under
        // AddressSanitizer) was most of each run's time.
        configuration.romSize = 1 << 16
        configuration.ramSize = 1 << 16
        configuration.key = fuzzKey   // the bundle registers too
        guard let soc = try? SoC(firmware: firmware, host: memory, configuration: configuration) else { return }
        try? soc.installAutomata(shipped)
        _ = soc.run(budget: 5_000)
    }
}

let socHost: [UInt8] = (0..<16384).map { UInt8(truncatingIfNeeded: ($0 &* 2654435761) >> 13) }

/// `eric check --baseline` state files: parsed, then judged against themselves and against a
/// state with no hypervisor (every comparison path over whatever the file holds).
func fuzzHostState(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let state = try? HostState(json: Data(bytes)) else { return }
    let empty = HostState(memoryMap: state.memoryMap, hypervisor: nil)
    for (baseline, current) in [(state, state), (state, empty), (empty, state)] {
        _ = try? IntegrityCheck().verdicts(baseline: baseline, current: current)
    }
    _ = state.json()
}

let fuzzKey = try! DeviceKey(bytes: (0..<32).map { UInt8($0) })

/// Key files, sealed bundles, and automata tables: the input as a key file; as a bundle the
/// checker is given (refused somewhere, never trapping); and as the table inside a bundle
/// sealed for the checker's key, so that its parser and the checker's install see whatever an
/// authentic bundle could hold, then a START_LIST over a page. A table that parses must write
/// back to the same bytes.
func fuzzSealed(_ bytes: UnsafeBufferPointer<UInt8>) {
    let input = Array(bytes)
    _ = try? DeviceKey(file: String(decoding: input, as: UTF8.self))
    if let table = try? AutomataTable(parsing: input), table.bytes != input {
        fatalError("the table does not write back to its bytes")
    }
    socHost.withUnsafeBytes { host in
        let memory = BufferMemory(ranges: [MemoryRange(physicalStart: 0x8000, length: UInt64(host.count), bytes: host.baseAddress!)])
        let checker = Checker(host: memory, engine: .interpreter, key: fuzzKey)
        func commit(_ bundle: [UInt8]) {
            _ = checker.write(0xb0, size: 4, value: 0)
            for at in stride(from: 0, to: bundle.count, by: 4) {
                _ = checker.write(0xb4, size: 4, value: (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(at + $1 < bundle.count ? bundle[at + $1] : 0) })
            }
            _ = checker.write(0xb8, size: 4, value: UInt32(bundle.count))
        }
        commit(input)
        guard !input.isEmpty, let sealed = try? SealedBundle.seal(table: input, version: 1, key: fuzzKey) else { return }
        commit(sealed.bytes)
        guard checker.read(0xbc, size: 4) == 0 else { return }
        _ = checker.write(0x10, size: 4, value: 0x9000)
        _ = checker.write(0x00, size: 4, value: 2)
        _ = checker.write(0x00, size: 4, value: 4)
    }
}

/// The built-in firmware (firmware/eric.S), assembled once.
let builtInFirmware: ELF32File = {
    let built = LM32Assembler.assemble(source: ShippedFirmware.source, name: "eric.S")
    guard let program = built.program, let file = try? ELF32File(parsing: program.elf()) else { fatalError("the built-in firmware does not assemble") }
    return file
}()

/// The built-in firmware's code, whose instructions that ran are the control target's
/// coverage beside the simulator's own: the Swift code is the same whatever path the firmware
/// takes, so without them the fuzzer could not tell a frame that reached a new handler.
let firmwareCode: Range<UInt32> = {
    guard let text = builtInFirmware.segments.first(where: { $0.flags & 1 != 0 }) else { fatalError("the built-in firmware has no code") }
    return text.address..<text.address + UInt32(text.data.count)
}()

func recordFirmwareCoverage(_ cpu: LM32CPU) {
    let counters = eric_firmware_counters_start()!
    let count = UInt32(eric_firmware_counter_count)
    cpu.forEachExecutedInstruction(in: firmwareCode) { address in
        counters[Int((address - firmwareCode.lowerBound) / 4 % count)] = 1
    }
}

/// Control frames as anyone on the board's wire can send them (docs/protocol.md, "Control":
/// LOAD, COMMIT, START, STATUS, MODE, READ, MAP, DIGEST, SHUTDOWN, and anything else), to
/// the built-in firmware on the control channel with a key: the input is a sequence of
/// Ethernet frames, each a 2-byte big-endian length and its bytes. After each one the firmware
/// must be back waiting, or powered off by a SHUTDOWN; never stopped by an exception (the
/// firmware's `fatal` prints "fatal exception" and powers off) or past its budget.
func fuzzControl(_ bytes: UnsafeBufferPointer<UInt8>) {
    socHost.withUnsafeBytes { host in
        let memory = BufferMemory(ranges: [MemoryRange(physicalStart: 0x8000, length: UInt64(host.count), bytes: host.baseAddress!)])
        var configuration = SoC.Configuration()
        configuration.engine = .interpreter
        configuration.controlChannel = true
        configuration.key = fuzzKey
        configuration.bootNonce = 1
        configuration.ramSize = 1 << 20          // the firmware's stack tops its first MiB
        final class Console: @unchecked Sendable { var text: [UInt8] = [] }
        let console = Console()
        guard let soc = try? SoC(firmware: builtInFirmware, host: memory, configuration: configuration,
                                 console: { console.text.append($0) }) else { fatalError("no SoC") }
        defer { recordFirmwareCoverage(soc.cpu) }
        guard soc.run(budget: 10_000_000) == .asleep else { fatalError("the firmware did not boot") }
        var at = 0
        while at + 2 <= bytes.count {
            let length = Int(bytes[at]) << 8 | Int(bytes[at + 1])
            at += 2
            let frame = Array(bytes[at..<min(bytes.count, at + length)])
            at += frame.count
            guard soc.ethernet.receive(frame) else { continue }   // no free slot: the MAC drops it
            let stop = soc.run(budget: 20_000_000)
            if String(decoding: console.text, as: UTF8.self).contains("fatal exception") {
                fatalError("the firmware took an exception: \(String(decoding: console.text, as: UTF8.self))")
            }
            if stop == .shutdown { return }
            guard stop == .asleep else { fatalError("the firmware did not come back to wait: \(stop)") }
        }
    }
}

