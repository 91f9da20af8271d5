import ArgumentParser
import CLISupport
import Dumps
import Foundation
import MPUISA
import MPUAsm
import MPUSim
import ShippedAutomata
import Correlation

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Run automata over every page of a memory dump.",
        discussion: """
            Prints the pages where an automaton raised an alert (physical address, \
            automaton, alert name and value), runs that faulted, and a summary: pages \
            scanned, hits per automaton, MPU instructions and cycles, the device time they \
            imply at the device's clock (docs/timing.md), and the time and rate here.

            The shipped automata (see `eric automata`) run unless --automata picks some or \
            none; --automaton adds a file, or replaces the shipped automaton of the same name.

            Exit status: 0 every page checked and nothing found, 1 findings, 2 an error \
            (nothing to scan included), 3 nothing found but not everything was checked \
            (some runs faulted, or parts of the dump were unreadable).

            Examples:
              eric scan dump.raw
              eric scan --automata ept,vmcs --jobs 2 --json guest.elf
              eric scan -D EXTRA_REVISION=0x4 --automata vmcs dump.lime
              eric scan --automata none --automaton my.s dump.raw
            """)

    @Option(help: ArgumentHelp("Shipped automata to run, comma-separated (default: all; 'none' for only --automaton files).", valueName: "names"))
    var automata: String?

    @Option(name: .customLong("automaton"), help: ArgumentHelp("An automaton file to run too: an image (.mpu) or MPU assembly source (or, when no such file exists, a shipped automaton's name, as eric trace takes it). Repeat for several.", valueName: "file"))
    var automatonFiles: [String] = []

    @Option(name: .customShort("D"), help: ArgumentHelp("Define a constant for the automata's sources (e.g. -D EXTRA_REVISION=0x4).", valueName: "name[=value]"))
    var definitions: [String] = []

    @Option(help: ArgumentHelp("Scan only physical addresses START <= a < END (decimal or 0x hex; K/M/G suffixes).", valueName: "start-end"))
    var range: String?

    @Option(parsing: .unconditional, help: "Worker threads (default: one per core). Results do not depend on it.")
    var jobs: Int?

    @Flag(help: "Write JSON Lines: one object per finding (and candidate) or fault, then a summary object.")
    var json = false

    @Flag(help: "Also show candidates: page-level matches that the correlation did not confirm (never counted in the exit status).")
    var candidates = false

    @Option(help: ArgumentHelp("auto (compiled code when a C compiler is available), interpreter, or compiled. Results are identical; only the speed differs.", valueName: "engine"))
    var engine: String = Engine.automatic.rawValue

    @Flag(help: "Scan through the full SoC: the firmware on the LM32 drives the checker and reports over Ethernet (docs/soc.md). Slower; adds LM32 cycles and device time.")
    var soc = false

    @OptionGroup var timing: TimingOptions

    @Argument(help: "Memory dump: raw (file offset = physical address), LiME, or an ELF core file (QEMU dump-guest-memory, /proc/vmcore); recognised from its content.")
    var dump: String

    func validate() throws {
        if let automata, automata != "none" {
            let known = ShippedAutomata.sources.map { String($0.file.dropLast(2)) }
            if automata.split(separator: ",").isEmpty {
                throw ValidationError("--automata '\(automata)' names no automaton (shipped: \(known.joined(separator: ", ")); or 'none' with --automaton FILE)")
            }
            for name in automata.split(separator: ",") where !known.contains(String(name)) {
                throw ValidationError("unknown automaton '\(name)' (shipped: \(known.joined(separator: ", ")))")
            }
        }
        if automata == "none" && automatonFiles.isEmpty { throw ValidationError("--automata none needs at least one --automaton file") }
        if let jobs, jobs < 0 { throw ValidationError("--jobs must be 0 (one per core) or more") }
        if Engine(rawValue: engine) == nil { throw ValidationError("--engine must be auto, interpreter or compiled, not '\(engine)'") }
        if let range { _ = try Scan.parseRange(range) }
        if soc && range != nil { throw ValidationError("--range does not apply with --soc: the firmware checks every range of the dump") }
        if soc && jobs != nil { throw ValidationError("--jobs does not apply with --soc: the device scans one page at a time") }
    }

    /// The shipped automata asked for, then the files (a file replaces the shipped automaton
    /// of the same name).
    func selectedAutomata() -> [Automaton] {
        let defined = parseDefinitions(definitions)
        let names = automata.map { $0 == "none" ? [] : $0.split(separator: ",").map(String.init) }
        let shipped = shippedAutomata(definitions: defined)
        var selected = shipped.filter { names?.contains($0.name) ?? true }
        for file in automatonFiles {
            let automaton = loadAutomatonOrShipped(file, definitions: defined)
            if let index = selected.firstIndex(where: { $0.name == automaton.name }) {
                selected[index] = automaton
            } else {
                selected.append(automaton)
            }
        }
        // The follow-up automata the selected ones ask for (x86-walk for pml4) come along.
        return withTheirFollowUps(selected, from: shipped)
    }

    static func parseRange(_ text: String) throws -> Range<UInt64> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = parseNumber(String(parts[0]), allowSuffix: true),
              let end = parseNumber(String(parts[1]), allowSuffix: true) else {
            throw ValidationError("--range '\(text)' is not START-END (for example 0x100000-0x200000 or 1G-2G)")
        }
        guard start < end else { throw ValidationError("--range '\(text)': the start must be below the end") }
        return start..<end
    }

    func run() throws {
        let loaded = selectedAutomata()
        let memory = openDump(dump)
        let model = timing.model
        let options = ScanOptions(timing: model, window: try range.map(Scan.parseRange), jobs: jobs ?? 0, engine: Engine(rawValue: engine)!)
        let scan = CorrelatedScan(automata: loaded, options: options)
        let scanner = scan.scanner
        // Compiles what --engine asks (cached per machine, so the SoC's checker finds it built).
        let engines: PreparedEngines
        do {
            engines = try scanner.prepare()
        } catch {
            Console.fail("eric: error: --engine compiled: \(error)", code: 2)
        }
        // Nothing to check is an error, never a clean result.
        if scanner.wholePages(in: memory) == 0 {
            let skipped = scanner.bytesOutsideWholePages(in: memory)
            let place = range.map { " in --range \($0)" } ?? " in the dump"
            Console.fail("\(dump): error: nothing to scan: no whole 4 KiB page\(place) (it holds \(extent(of: memory))" + (skipped > 0 ? "; \(skipped) bytes outside whole pages" : "") + ")", code: 2)
        }
        if soc {
            return try runSoC(loaded, memory: memory, model: model, engine: options.engine,
                              skippedBytes: scanner.bytesOutsideWholePages(in: memory))
        }
        var output = OutputBuffer()
        let progress = Console.standardErrorIsTerminal && !json ? ProgressLine() : nil
        let outcome = scan.run(memory, engines: engines, onProgress: { done, total in progress?.update(done: done, total: total) })
        progress?.finish()
        let statistics = outcome.statistics
        report(outcome, automata: loaded, model: model, into: &output)
        if json {
            output.append(JSONLine.summary(statistics, automata: scan.sweepAutomata, timing: model, jobs: jobs ?? 0, reports: outcome.reports, dump: dump, memory: memory))
        } else {
            output.append(summary(statistics, automata: scan.sweepAutomata, timing: model, engines: engines, dump: memory, reports: outcome.reports))
        }
        output.flush()
        try exit(findings: outcome.reports.contains { $0.confidence == .finding },
                 runs: statistics.pages * UInt64(scan.sweepAutomata.count), faultedRuns: statistics.perAutomaton.map(\.faults).saturatingSum(), unreadableBytes: memory.unreadableBytes)
    }

    /// Exit status 1 for findings; otherwise 0 only when every run checked its page: 3 when
    /// some runs faulted (those pages were not fully checked), an error when all did.
    /// Parts of the dump that could not be read (warned about) make a clean result partial too.
    func exit(findings: Bool, runs: UInt64, faultedRuns: UInt64, unreadableBytes: UInt64) throws {
        if findings { throw ExitCode(1) }
        if faultedRuns == 0 && unreadableBytes > 0 {
            Console.error("\(dump): warning: no findings in what was read, but \(unreadableBytes) bytes of the dump were unreadable (see the warnings; exit status 3)")
            throw ExitCode(3)
        }
        guard faultedRuns > 0 else { return }
        if faultedRuns >= runs {
            Console.fail("\(dump): error: nothing was checked: every one of the \(runs) runs faulted (see the faults above)", code: 2)
        }
        Console.error("\(dump): warning: no findings, but \(faultedRuns) of \(runs) runs faulted: those pages were not fully checked (exit status 3)")
        throw ExitCode(3)
    }

    /// Findings (and with --candidates, candidates) with their evidence, then faults.
    func report(_ outcome: ScanOutcome, automata: [Automaton], model: TimingModel, into output: inout OutputBuffer) {
        let shown = outcome.reports.indices.filter { candidates || outcome.reports[$0].confidence == .finding }
        if json {
            for index in shown { output.append(JSONLine.report(outcome.reports[index], alert: outcome.alerts[index], timing: model)) }
            for fault in outcome.faults {
                output.append(JSONLine.fault(fault, automaton: automata.filter { !$0.metadata.followUpOnly }[fault.automaton].name, timing: model))
            }
            return
        }
        output.append("physical address    automaton     alert               structure\n")
        let byName = Dictionary(automata.map { ($0.name, $0.metadata) }, uniquingKeysWith: { first, _ in first })
        for index in shown {
            let r = outcome.reports[index]
            let description = byName[r.automaton]?.alerts.first { $0.value == r.value }?.description ?? "alert value \(hex(r.value))"
            let level = r.level.map { " (level \($0))" } ?? ""
            let mark = r.confidence == .candidate ? "candidate: " : ""
            output.append("\(hex(r.page, 16))  \(pad(r.automaton, 12))  \(pad(r.name ?? hex(r.value), 18))  \(mark)\(description)\(level)\n")
            output.append("                    \(r.confidence == .finding ? "confirmed" : "unconfirmed"): \(r.evidence)\n")
            if output.count > 1 << 16 { output.flush() }
        }
        let sweepers = automata.filter { !$0.metadata.followUpOnly }
        for fault in outcome.faults {
            output.append("\(hex(fault.pageAddress, 16))  \(pad(sweepers[fault.automaton].name, 12))  \(pad("fault", 18))  \(fault.fault)\n")
        }
    }

    func summary(_ s: ScanStatistics, automata: [Automaton], timing: TimingModel, engines: PreparedEngines, dump: MappedDump,
                 reports: [Report]) -> String {
        var lines: [String] = [""]
        let skippedInFile = dump.unreadableBytes
        lines.append("dump            \(self.dump) (\(describe(dump)))" + (skippedInFile > 0 ? "; \(skippedInFile) bytes unreadable, see the warnings" : ""))
        let skipped = s.skippedBytes > 0 ? "; \(s.skippedBytes) bytes outside whole pages not scanned" : ""
        lines.append("pages scanned   \(s.pages) (\(formatBytes(s.bytes)))\(skipped)")
        for (index, automaton) in automata.enumerated() {
            let a = s.perAutomaton[index]
            lines.append("  \(pad(automaton.name, 20)) \(a.alerts) alert\(a.alerts == 1 ? "" : "s"), \(a.faults) fault\(a.faults == 1 ? "" : "s"), \(a.instructions) instructions, \(a.cycles) cycles")
        }
        lines.append("follow-ups      \(s.followUpRuns) runs on pages the sweep did not check with their automaton: \(s.followUpFetchCycles) cycles of page fetches + \(s.followUpCycles) cycles of automata")
        lines.append("MPU             \(s.instructions) instructions, \(s.mpuCycles) cycles, \(s.hostReads) host reads (sweep)")
        let fetch = timing.hostAccess == .page ? "\(s.fetchCycles) cycles of page fetches (\(timing.pageFetchCycles) per page) + " : ""
        lines.append("device time     \(formatSeconds(timing.seconds(cycles: s.deviceCycles))) at \(timing.clockHz / 1e6) MHz: \(fetch)\(s.mpuCycles) cycles of automata + \(s.followUpFetchCycles + s.followUpCycles) of follow-ups (timing \(timing.name))")
        lines.append("bottleneck      " + bottleneckLine(timing, fetchCycles: s.fetchCycles &+ s.followUpFetchCycles, automataCycles: s.mpuCycles &+ s.followUpCycles))
        let found = reports.count { $0.confidence == .finding }
        lines.append("reports         \(found) finding\(found == 1 ? "" : "s"), \(reports.count - found) candidate\(reports.count - found == 1 ? "" : "s")" + (candidates ? "" : " (--candidates shows them)"))
        let rate = s.hostSeconds > 0 ? String(format: "%.2f GB/s", s.bytesPerHostSecond / 1e9) : "-"
        let engine = engines.compiledCount == automata.count ? "compiled" : engines.compiledCount == 0 ? "interpreter" : "\(engines.compiledCount) of \(automata.count) compiled"
        lines.append("host time       \(formatSeconds(s.hostSeconds)) (\(rate); engine: \(engine))")
        return lines.joined(separator: "\n") + "\n"
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func formatBytes(_ bytes: UInt64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) bytes" : String(format: "%.2f %@", value, units[unit])
}

/// Collects output and writes it in large pieces.
struct OutputBuffer {
    private var text = ""
    var count: Int { text.utf8.count }
    mutating func append(_ piece: String) { text += piece }
    mutating func flush() {
        Console.write(text)
        text = ""
    }
}

/// A progress line on standard error: percentage, rate and time left.
final class ProgressLine {
    private let started = Date()
    private var lastDrawn = Date.distantPast

    func update(done: UInt64, total: UInt64) {
        let now = Date()
        guard total > 0, now.timeIntervalSince(lastDrawn) > 0.1 || done == total else { return }
        lastDrawn = now
        let elapsed = now.timeIntervalSince(started)
        let fraction = Double(done) / Double(total)
        let rate = elapsed > 0 ? Double(done) * 4096 / elapsed : 0
        let left = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data(String(format: "\r[%@] %3.0f%%  %.2f GB/s  %.0f s left ", bar, fraction * 100, rate / 1e9, left).utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\r\u{1b}[K".utf8))
    }
}

/// JSON Lines records, keys sorted so that the same scan gives the same bytes.
enum JSONLine {
    struct FindingRecord: Encodable {
        let type = "finding"
        let page: UInt64
        let automaton: String
        let value: UInt64
        let name: String?
        /// Unknown (absent) when the finding comes from the SoC's alert records.
        let pc: Int?
        let cycle: UInt64
        let device_cycle: UInt64
        let device_seconds: Double
    }

    struct ReportRecord: Encodable {
        let type: String
        let page: UInt64
        let automaton: String
        let value: UInt64
        let name: String?
        let structure: String
        let level: Int?
        let evidence: String
        let follow_up: Bool
        let pc: Int?
        let cycle: UInt64?
        let device_cycle: UInt64?
        let device_seconds: Double?
    }

    struct FaultRecord: Encodable {
        let type = "fault"
        let page: UInt64
        let automaton: String
        let fault: String
        let pc: Int
        let cycle: UInt64
        let detail: UInt64?
        let device_cycle: UInt64
    }

    struct AutomatonRecord: Encodable {
        let name: String
        let runs: UInt64
        let alerts: UInt64
        let faults: UInt64
        let instructions: UInt64
        let cycles: UInt64
        let host_reads: UInt64
    }

    struct SummaryRecord: Encodable {
        let type = "summary"
        let dump: String
        let format: String
        /// Bytes of the file left out as damaged (the warnings say where).
        let unreadable_bytes: UInt64
        let pages: UInt64
        let bytes: UInt64
        let skipped_bytes: UInt64
        let automata: [AutomatonRecord]
        let instructions: UInt64
        let mpu_cycles: UInt64
        let fetch_cycles: UInt64
        let device_cycles: UInt64
        let device_seconds: Double
        /// "link" or "mpu": what the sweep waits for.
        let bottleneck: String
        let clock_hz: Double
        let timing: String
        let host_seconds: Double
        let follow_up_runs: UInt64
        let follow_up_fetch_cycles: UInt64
        let follow_up_cycles: UInt64
        let findings: Int
        let candidates: Int
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(value), as: UTF8.self) + "\n"
    }

    static func finding(_ f: Finding, automaton: String, timing: TimingModel) -> String {
        encode(FindingRecord(page: f.pageAddress, automaton: automaton, value: f.value, name: f.name, pc: f.pc, cycle: f.cycle,
                             device_cycle: f.deviceCycle, device_seconds: timing.seconds(cycles: f.deviceCycle)))
    }

    static func report(_ r: Report, alert: Finding?, timing: TimingModel) -> String {
        encode(ReportRecord(type: r.confidence.rawValue, page: r.page, automaton: r.automaton, value: r.value, name: r.name,
                            structure: r.structure.rawValue, level: r.level, evidence: r.evidence, follow_up: r.viaFollowUp,
                            pc: alert.flatMap { $0.pc >= 0 ? $0.pc : nil }, cycle: alert?.cycle, device_cycle: alert?.deviceCycle,
                            device_seconds: alert.map { timing.seconds(cycles: $0.deviceCycle) }))
    }

    static func fault(_ r: FaultReport, automaton: String, timing: TimingModel) -> String {
        encode(FaultRecord(page: r.pageAddress, automaton: automaton, fault: r.fault.kind.rawValue, pc: r.fault.pc,
                           cycle: r.fault.cycle, detail: r.fault.detail, device_cycle: r.deviceCycle))
    }

    static func summary(_ s: ScanStatistics, automata: [Automaton], timing: TimingModel, jobs: Int, reports: [Report], dump: String, memory: MappedDump) -> String {
        let records = automata.enumerated().map { index, automaton in
            let a = s.perAutomaton[index]
            return AutomatonRecord(name: automaton.name, runs: a.runs, alerts: a.alerts, faults: a.faults,
                                   instructions: a.instructions, cycles: a.cycles, host_reads: a.hostReads)
        }
        return encode(SummaryRecord(dump: dump, format: memory.format.rawValue, unreadable_bytes: memory.unreadableBytes, pages: s.pages, bytes: s.bytes, skipped_bytes: s.skippedBytes, automata: records,
                                    instructions: s.instructions, mpu_cycles: s.mpuCycles, fetch_cycles: s.fetchCycles,
                                    device_cycles: s.deviceCycles, device_seconds: timing.seconds(cycles: s.deviceCycles),
                                    bottleneck: timing.bottleneck(fetchCycles: s.fetchCycles &+ s.followUpFetchCycles,
                                                                  automataCycles: s.mpuCycles &+ s.followUpCycles).rawValue,
                                    clock_hz: timing.clockHz, timing: timing.name, host_seconds: s.hostSeconds,
                                    follow_up_runs: s.followUpRuns, follow_up_fetch_cycles: s.followUpFetchCycles,
                                    follow_up_cycles: s.followUpCycles, findings: reports.count { $0.confidence == .finding },
                                    candidates: reports.count { $0.confidence == .candidate }))
    }
}

/// The scan summary's bottleneck line: what the sweep waits for, and each side's share of the
/// device's time.
func bottleneckLine(_ timing: TimingModel, fetchCycles: UInt64, automataCycles: UInt64) -> String {
    let total = max(1, Double(fetchCycles) + Double(automataCycles))
    let shares = String(format: "page fetches %.0f%%, automata %.0f%% of the device's time", 100 * Double(fetchCycles) / total, 100 * Double(automataCycles) / total)
    switch timing.bottleneck(fetchCycles: fetchCycles, automataCycles: automataCycles) {
    case .link where timing.hostAccess == .word: return "the PCIe link's latency: in word mode every load waits for it"
    case .link: return "the PCIe link (\(shares))"
    case .mpu: return "the MPU (\(shares))"
    }
}
