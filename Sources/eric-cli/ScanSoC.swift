import AlertProtocol
import ArgumentParser
import Verifier
import CLISupport
import Dumps
import ELF32
import EricSoC
import Foundation
import LM32Asm
import MPUSim
import Correlation
import ShippedAutomata

/// `eric scan --soc`: the scan as the board runs it: the firmware on the LM32 drives the
/// checker, and the findings are the alert records it sends.
extension Scan {
    /// The built-in firmware, assembled by lm32as's library.
    static func builtInFirmware() -> ELF32File {
        let built = LM32Assembler.assemble(source: ShippedFirmware.source, name: "<built-in>/firmware/eric.S")
        for diagnostic in built.diagnostics { Console.error(diagnostic.rendered()) }
        guard let program = built.program, let file = try? ELF32File(parsing: program.elf()) else {
            Console.fail("eric: error: the built-in firmware does not assemble", code: 2)
        }
        return file
    }

    /// The direct scan's summary keys where they mean the same, then the SoC's own.
    struct SoCSummaryRecord: Encodable {
        let type = "summary"
        let soc = true
        let dump: String
        let format: String
        let unreadable_bytes: UInt64
        let bytes: UInt64
        let timing: String
        let clock_hz: Double
        let pages: UInt64
        let skipped_bytes: UInt64
        let runs: UInt32
        let alerts: UInt64
        let faults: UInt32
        /// As in the direct scan's summary: the automata's cycles, and the page fetches' apart.
        let mpu_cycles: UInt64
        let fetch_cycles: UInt64
        let lm32_cycles: UInt64
        let lm32_instructions: UInt64
        let lm32_idle_cycles: UInt64
        let follow_up_runs: UInt64
        let follow_up_fetch_cycles: UInt64
        let follow_up_cycles: UInt64
        let findings: Int
        let candidates: Int
        let device_seconds: Double
        /// "link" or "mpu": what the sweep waits for (as the direct scan's summary says).
        let bottleneck: String
        let host_seconds: Double
    }

    /// `skippedBytes`: what the firmware cannot scan (no whole page covers it), reported as
    /// the direct scan reports it.
    func runSoC(_ loaded: [Automaton], memory: MappedDump, model: TimingModel, engine: Engine, skippedBytes: UInt64) throws {
        final class Frames { var records: [AlertRecord] = []; var bad: [String] = [] }
        let frames = Frames()
        var configuration = SoC.Configuration()
        configuration.timing = model
        configuration.engine = engine
        let started = Date()
        let soc: SoC
        do {
            soc = try SoC(firmware: Scan.builtInFirmware(), host: memory, configuration: configuration, frames: { frame in
                do { frames.records.append(try AlertRecord(payload: UDPFrame(frame: frame).payload)) } catch { frames.bad.append("\(error)") }
            })
            try soc.installAutomata(loaded)
        } catch {
            Console.fail("eric: error: \(error)", code: 2)
        }
        let stop = soc.run()
        guard stop == .shutdown else { Console.fail("eric: error: the firmware stopped without finishing: \(stop)", code: 2) }
        let hostSeconds = Date().timeIntervalSince(started)
        for problem in frames.bad + soc.ethernet.transmitErrors { Console.error("eric: warning: a frame from the device was unusable: \(problem)") }
        let clockHz = Double(configuration.clockHz)

        // The records of each run, in the order the firmware sent them, make the sweep's runs and
        // the follow-up runs the checker made; the correlation is the direct scan's, walking the
        // same follow-ups to the device's runs (docs/automata.md, "Correlation").
        let sweep = SweepRecords(records: frames.records, automata: loaded)
        for warning in sweep.warnings { Console.error("eric: warning: \(warning)") }
        let perAutomaton = sweep.perAutomaton
        guard let summary = frames.records.last, summary.kind == .summary else {
            Console.fail("\(dump): error: the firmware ended without a summary record: its sweep did not finish (`eric run \(dump)` shows its console)", code: 2)
        }
        var statistics = ScanStatistics()
        statistics.pages = summary.page
        statistics.fetchCycles = soc.checker.totalFetchCycles
        let outcome = sweep.correlated(with: CorrelatedScan(automata: loaded, options: ScanOptions(timing: model, jobs: 1, engine: engine)),
                                       statistics: &statistics, memory: memory)
        // What the follow-ups cost, as the checker counted it.
        statistics.followUpRuns = soc.checker.followUpStatistics.runs
        statistics.followUpFetchCycles = soc.checker.followUpFetchCycles
        statistics.followUpCycles = soc.checker.followUpStatistics.cycles
        var output = OutputBuffer()
        report(outcome, automata: loaded, model: model, into: &output)
        // The follow-ups run on the device before its summary: the LM32's time covers them. The
        // summary's MPU cycles and runs count them too; the sweep's are what is left.
        let deviceSeconds = Double(soc.cpu.cycles) / clockHz
        let sweepFetches = soc.checker.totalFetchCycles &- statistics.followUpFetchCycles
        let sweepAutomataCycles = summary.mpuCycles &- soc.checker.totalFetchCycles &- statistics.followUpCycles
        let sweepRuns = UInt64(summary.runs) &- statistics.followUpRuns
        if json {
            output.append(JSONLine.encode(SoCSummaryRecord(dump: dump, format: memory.format.rawValue, unreadable_bytes: memory.unreadableBytes,
                                                           bytes: summary.page &* 4096, timing: model.name, clock_hz: model.clockHz, pages: summary.page, skipped_bytes: skippedBytes, runs: UInt32(clamping: sweepRuns), alerts: summary.value, faults: summary.faults,
                                                           mpu_cycles: sweepAutomataCycles, fetch_cycles: sweepFetches, lm32_cycles: soc.cpu.cycles, lm32_instructions: soc.cpu.instructions,
                                                           lm32_idle_cycles: soc.idleCycles, follow_up_runs: statistics.followUpRuns,
                                                           follow_up_fetch_cycles: statistics.followUpFetchCycles, follow_up_cycles: statistics.followUpCycles,
                                                           findings: outcome.reports.count { $0.confidence == .finding },
                                                           candidates: outcome.reports.count { $0.confidence == .candidate },
                                                           device_seconds: deviceSeconds,
                                                           bottleneck: model.bottleneck(fetchCycles: soc.checker.totalFetchCycles,
                                                                                        automataCycles: summary.mpuCycles &- soc.checker.totalFetchCycles).rawValue,
                                                           host_seconds: hostSeconds)))
        } else {
            var lines = ["", "dump            \(dump) (\(describe(memory)))", "pages scanned   \(summary.page) through the SoC (firmware/eric.S)"
                         + (skippedBytes > 0 ? "; \(skippedBytes) bytes outside whole pages not scanned" : "")]
            for (index, automaton) in SoC.slotOrder(loaded).filter({ !$0.metadata.followUpOnly }).enumerated() {
                lines.append("  \(pad(automaton.name, 20)) \(perAutomaton[index]) alert\(perAutomaton[index] == 1 ? "" : "s")")
            }
            lines.append("MPU             \(sweepRuns) runs in the sweep, \(summary.faults) faulted in all, \(sweepFetches &+ sweepAutomataCycles) cycles: \(sweepFetches) of page fetches over PCIe + \(sweepAutomataCycles) of automata (timing \(model.name))")
            lines.append("LM32            \(soc.cpu.instructions) instructions, \(soc.cpu.cycles) cycles, \(soc.idleCycles) of them idle")
            lines.append("follow-ups      \(statistics.followUpRuns) runs by the checker after the sweep: \(statistics.followUpFetchCycles) cycles of page fetches + \(statistics.followUpCycles) cycles of automata")
            lines.append("device time     \(formatSeconds(deviceSeconds)) at \(clockHz / 1e6) MHz (the LM32 clock from reset to the summary, follow-ups included)")
            lines.append("bottleneck      " + bottleneckLine(model, fetchCycles: soc.checker.totalFetchCycles, automataCycles: summary.mpuCycles &- soc.checker.totalFetchCycles))
            let found = outcome.reports.count { $0.confidence == .finding }
            lines.append("reports         \(found) finding\(found == 1 ? "" : "s"), \(outcome.reports.count - found) candidates" + (candidates ? "" : " (--candidates shows them)"))
            lines.append("host time       \(formatSeconds(hostSeconds))")
            output.append(lines.joined(separator: "\n") + "\n")
        }
        output.flush()
        try exit(findings: outcome.reports.contains { $0.confidence == .finding }, runs: UInt64(summary.runs), faultedRuns: UInt64(summary.faults), unreadableBytes: memory.unreadableBytes)
    }
}
