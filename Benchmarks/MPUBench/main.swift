// Benchmarks for the MPU simulator and scanner (release builds; see Benchmarks/run.sh).
//   mpu-bench loop                  simulated instructions per second on a tight loop
//   mpu-bench generate FILE SIZE MIX  write a deterministic dump (MIX: realistic | tables)
//   mpu-bench scan FILE AUTOMATON   scan a raw dump on one thread, as eric scan would
//   mpu-bench costs DIR             cycles per page of each automaton in DIR, by page kind
import Foundation
import MPUAsm
import MPUISA
import MPUSim
import Synth

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("mpu-bench: " + message + "\n").utf8))
    exit(2)
}

func assemble(_ source: String, name: String) -> Automaton {
    let result = MPUAssembler.assemble(source: source, name: name)
    guard let image = result.image else { fail(result.diagnostics.map { $0.rendered() }.joined(separator: "\n")) }
    return Automaton(image: image)
}

func seconds(_ body: () -> Void) -> Double {
    let start = ContinuousClock.now
    body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}


func loop() {
    // 4 instructions an iteration, the last a taken jump: 5 cycles.
    let iterations = 50_000_000
    let automaton = assemble("""
            loadd r2, $\(iterations)
            loadw r8, $loop
            loadq r5, $-1
        loop:
            addq r1, $1
            hammq r3, r1, r4, r5
            addq r6, r6, r3
            equq r1, r2, r8
            intq r0
        """, name: "loop.s")
    var mpu = MPU()
    mpu.timing.watchdogCycles = .max
    let page = [UInt8](repeating: 0, count: 4096)
    var best = Double.infinity
    var result = RunResult()
    for _ in 0..<3 {
        var alerts: [Alert] = []
        let time = seconds { result = page.withUnsafeBytes { mpu.run(automaton, page: $0.baseAddress!, pageAddress: 0, alerts: &alerts) } }
        best = min(best, time)
    }
    guard result.fault == nil, result.instructions == UInt64(3 + 4 * iterations + 1) else { fail("loop ran wrong: \(result)") }
    print(String(format: "loop instructions=%llu seconds=%.4f rate=%.1f", result.instructions, best, Double(result.instructions) / best / 1e6) + "M/s")
}

/// Page kinds of the generated dumps. `realistic` follows the make-up of a server's memory
/// (mostly zero, data, text and code; a few page tables); `tables` is all EPT-like tables,
/// the interpreter's worst case.
func generate(path: String, size: Int, mix: String) {
    guard size % 4096 == 0, size > 0 else { fail("size must be a positive multiple of 4096") }
    guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else { fail("cannot write \(path)") }
    var generator = SplitMix64(seed: 0x5eed)
    var buffer = [UInt64](repeating: 0, count: 512 * 256)
    let text = Array("the quick brown fox jumps over the lazy dog; GET /index.html HTTP/1.1\r\nHost: example\r\n".utf8)
    for chunk in 0..<(size / (4096 * 256)) + (size % (4096 * 256) == 0 ? 0 : 1) {
        let pages = min(256, size / 4096 - chunk * 256)
        for p in 0..<pages {
            let roll = generator.next() % 1000
            let base = p * 512
            let kind: Int
            if mix == "tables" { kind = roll < 500 ? 4 : 5 } else {
                kind = roll < 400 ? 0 : roll < 600 ? 1 : roll < 750 ? 2 : roll < 900 ? 3 : roll < 990 ? 6 : roll < 996 ? 4 : 5
            }
            switch kind {
            case 0: for i in 0..<512 { buffer[base + i] = 0 }                           // zero page
            case 1: for i in 0..<512 { buffer[base + i] = generator.next() }            // random / compressed
            case 2:                                                                     // text
                let offset = Int(generator.next() % UInt64(text.count))
                for i in 0..<512 {
                    var word: UInt64 = 0
                    for k in 0..<8 { word |= UInt64(text[(offset + i * 8 + k) % text.count]) << UInt64(8 * k) }
                    buffer[base + i] = word
                }
            case 3: for i in 0..<512 { buffer[base + i] = generator.next() & 0x0000_ffff_00ff_ff48 } // code-like, low entropy
            case 4:                                                                     // identity EPT table
                let region = (generator.next() % 4096) << 21
                for i in 0..<512 { buffer[base + i] = (region + UInt64(i) << 12) | 0x37 }
            case 5:                                                                     // near miss: breaks at a random entry
                let region = (generator.next() % 4096) << 21
                let breakAt = Int(generator.next() % 511) + 1
                for i in 0..<512 { buffer[base + i] = (region + UInt64(i + (i >= breakAt ? 1 : 0)) << 12) | 0x37 }
            default:                                                                    // pointers and small integers (heap data)
                for i in 0..<512 { buffer[base + i] = generator.next() % 3 == 0 ? 0xffff_8880_0000_0000 | (generator.next() & 0xfff_fff8) : generator.next() % 4096 }
            }
        }
        buffer.withUnsafeBytes { handle.write(Data(bytes: $0.baseAddress!, count: pages * 4096)) }
    }
    try? handle.close()
}

func scan(path: String, automatonPath: String) {
    let source = (try? String(contentsOfFile: automatonPath, encoding: .utf8)) ?? { fail("cannot read \(automatonPath)") }()
    let automaton = assemble(source, name: automatonPath)
    // Mapped once with every page populated, as the C baseline does: both then measure the
    // scan itself, not the kernel's page-fault path (whose cost swings with the page cache).
    let dump: RawDump
    do { dump = try RawDump(path: path, populate: true) } catch { fail("\(error)") }
    // ERIC_ENGINE=interpreter|compiled|auto (default auto) picks the engine.
    let engine = Engine(rawValue: ProcessInfo.processInfo.environment["ERIC_ENGINE"] ?? "auto") ?? .automatic
    let scanner = Scanner(automata: [automaton], options: ScanOptions(jobs: 1, engine: engine))
    let engines: PreparedEngines
    do { engines = try scanner.prepare() } catch { fail("compiled engine: \(error)") }
    var best = Double.infinity
    var last: ScanStatistics?
    for _ in 0..<3 {
        let statistics = scanner.run(dump, engines: engines)
        best = min(best, statistics.hostSeconds)
        last = statistics
    }
    let statistics = last!
    print((engines.compiledCount > 0 ? "engine=compiled " : "engine=interpreter ") + String(format: "scan pages=%llu matches=%llu instructions=%llu seconds=%.4f rate=%.2fGB/s device=%.3fs",
                 statistics.pages, statistics.alerts, statistics.instructions, best, Double(statistics.bytes) / best / 1e9,
                 TimingModel.slides.seconds(cycles: statistics.deviceCycles)))
}

/// Cycles per page of each automaton on each kind of page (the slides timing), for
/// docs/automata.md: typical = the realistic filler mix, worst = the most expensive page seen.
func costs(directory: String) {
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".s") }.sorted()
    var random = SplitMix64(seed: 77)
    let hostPages: UInt64 = 1 << 24
    let kinds: [(String, Double, () -> Page)] = [
        ("zero", 0.40, { Page() }),
        ("random", 0.20, { Pages.random(&random) }),
        ("text", 0.15, { Pages.text(&random) }),
        ("code", 0.15, { Pages.codeLike(&random) }),
        ("heap", 0.10, { Pages.heap(&random) }),
        ("ept-pt", 0, { Pages.eptPageTable(&random, hostPages: hostPages) }),
        ("ept-identity", 0, { Pages.eptIdentityTable(base: 0x4000_0000, &random) }),
        ("ept-pd", 0, { Pages.eptDirectory(pointers: [0x1000, 0x2000], largeLeaves: 3, &random, hostPages: hostPages) }),
        ("vmcs12", 0, { Pages.vmcs(.vmcs12, eptRoot: 0x5000, hostRoot: 0x6000, &random) }),
        ("vmxon", 0, { Pages.vmxon(revision: 0x12) }),
        ("idt", 0, { Pages.linuxIDT(&random) }),
        ("pml4", 0, { Pages.linuxPML4(process: true, &random, hostPages: hostPages) }),
        ("x86-pt", 0, { Pages.linuxKernelPageTable(&random, hostPages: hostPages) }),
    ]
    let mpu = MPU()
    print("automaton      " + kinds.map { $0.0.padding(toLength: 13, withPad: " ", startingAt: 0) }.joined() + "typical  worst")
    for file in files {
        let source = (try? String(contentsOfFile: directory + "/" + file, encoding: .utf8)) ?? ""
        let automaton = assemble(source, name: file)
        var line = String(file.dropLast(2)).padding(toLength: 15, withPad: " ", startingAt: 0)
        var typical = 0.0, worst: UInt64 = 0
        for (_, weight, make) in kinds {
            var total: UInt64 = 0
            for _ in 0..<20 {
                let page = make()
                var alerts: [Alert] = []
                let run = page.bytes.withUnsafeBytes { mpu.run(automaton, page: $0.baseAddress!, pageAddress: 0x7000, alerts: &alerts) }
                total += run.cycles
                worst = max(worst, run.cycles)
            }
            typical += weight * Double(total) / 20
            line += String(total / 20).padding(toLength: 13, withPad: " ", startingAt: 0)
        }
        print(line + String(Int(typical.rounded())).padding(toLength: 9, withPad: " ", startingAt: 0) + String(worst))
    }
}

let arguments = CommandLine.arguments
switch arguments.dropFirst().first {
case "loop": loop()
case "generate" where arguments.count == 5: generate(path: arguments[2], size: Int(arguments[3]) ?? 0, mix: arguments[4])
case "scan" where arguments.count == 4: scan(path: arguments[2], automatonPath: arguments[3])
case "costs" where arguments.count == 3: costs(directory: arguments[2])
default: fail("usage: mpu-bench loop | generate FILE SIZE realistic|tables | scan FILE AUTOMATON")
}
