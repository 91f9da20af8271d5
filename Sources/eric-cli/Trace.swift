import ArgumentParser
import CLISupport
import Dumps
import MPUISA
import Foundation
import MPUSim

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Run one automaton over one page and show every step.",
        discussion: """
            Prints each executed instruction with the cycle count before it, its pc and \
            disassembly, the registers it changed, the host-memory words it read, the jumps \
            it took and the alerts it raised; then how the run ended and what it cost.

            Example: eric trace --automaton automata/ept-identity.s --page 0x200000 dump.raw
            """)

    @Option(help: ArgumentHelp("The automaton: an image (.mpu), MPU assembly source, or the name of a shipped one.", valueName: "file"))
    var automaton: String

    @Option(name: .customShort("D"), help: ArgumentHelp("Define a constant for the automaton's source.", valueName: "name[=value]"))
    var definitions: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("Physical address of the page (4 KiB aligned; decimal or 0x hex).", valueName: "address"))
    var page: String

    @Argument(help: "Memory dump: raw, LiME or ELF core (recognised from its content).")
    var dump: String

    @OptionGroup var timing: TimingOptions

    func validate() throws {
        guard let address = parseNumber(page) else { throw ValidationError("--page '\(page)' is not a number") }
        guard address % UInt64(InstructionSet.pageBytes) == 0 else {
            throw ValidationError("--page \(hex(address)) is not 4 KiB aligned (the page holding it starts at \(hex(address & ~0xfff)))")
        }
    }

    func run() throws {
        let address = parseNumber(page)!
        let automaton = loadAutomatonOrShipped(self.automaton, definitions: parseDefinitions(definitions))
        let memory = openDump(dump)
        guard let range = memory.ranges.first(where: { $0.offset(of: address) != nil }) else {
            Console.fail("\(dump): error: no whole page at \(hex(address)) in the dump (it holds \(extent(of: memory)))", code: 2)
        }
        let model = timing.model
        let (result, alerts, steps) = MPU(timing: model).trace(automaton, page: range.bytes + range.offset(of: address)!, pageAddress: address)

        var out = "automaton \(automaton.name) (\(self.automaton)), page \(hex(address)) of \(dump) (\(describe(memory)))\n"
        out += "timing \(model.name): \(model.clockHz / 1e6) MHz, host access \(model.hostAccess.rawValue)"
        out += model.hostAccess == .page ? " (page fetch \(model.pageFetchCycles) cycles before the run)\n" : " (\(model.pcieLatencyCycles) cycles per mload wait)\n"
        out += "start: pc \(hex(UInt64(automaton.image.entry), 4)), r1 = 0 (page cursor), r15 = \(hex(address)) (page base), other registers 0\n\n"
        out += "     cycle  pc      instruction                    effect\n"
        var alertIndex = 0
        for (index, step) in steps.enumerated() {
            let text = automaton.instruction(at: step.pc)?.text() ?? "?"
            var effects: [String] = step.reads.map { "[\(hex($0.offset, 3))] -> \(hex($0.value))" }
            effects += step.changes.map { "r\($0.register) = \(hex($0.new))" }
            if index + 1 < steps.count, steps[index + 1].pc != step.pc + 8 {
                effects.append("jump -> \(hex(UInt64(steps[index + 1].pc), 4))")
            }
            while alertIndex < alerts.count, alerts[alertIndex].pc == step.pc, alerts[alertIndex].cycle == step.cycle {
                let value = alerts[alertIndex].value
                effects.append("alert \(hex(value))" + (automaton.metadata.alertName(for: value).map { " \($0)" } ?? ""))
                alertIndex += 1
            }
            let cycle = String(step.cycle)
            out += String(repeating: " ", count: max(0, 10 - cycle.count)) + cycle + "  " + hex(UInt64(step.pc), 4) + "  "
            out += text.padding(toLength: max(30, text.count), withPad: " ", startingAt: 0) + " " + effects.joined(separator: ", ") + "\n"
            if out.utf8.count > 1 << 16 {
                Console.write(out)
                out = ""
            }
        }
        let ending = result.fault.map { "fault: \($0)" } ?? "int 0"
        out += "\nend: \(ending)\n"
        out += "\(result.instructions) instructions, \(result.cycles) cycles (\(formatSeconds(model.seconds(cycles: result.cycles))) at \(model.clockHz / 1e6) MHz), "
        out += "\(result.hostReads) host reads, \(alerts.count) alert\(alerts.count == 1 ? "" : "s")\n"
        Console.write(out)
    }
}

/// "12.5 us", "3.2 ms", "1.04 s".
func formatSeconds(_ seconds: Double) -> String {
    switch seconds {
    case ..<1e-6: return String(format: "%.1f ns", seconds * 1e9)
    case ..<1e-3: return String(format: "%.2f us", seconds * 1e6)
    case ..<1: return String(format: "%.2f ms", seconds * 1e3)
    default: return String(format: "%.2f s", seconds)
    }
}
