import ArgumentParser
import CLISupport
import MPUISA
import MPUSim

struct Automata: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "automata",
        abstract: "List the shipped automata and the alerts they raise (docs/automata.md).")

    func run() throws {
        var out = ""
        for automaton in shippedAutomata() {
            out += "\(automaton.name): \(automaton.metadata.description ?? "")\n"
            out += "  \(automaton.instructionCount) instructions\n"
            for alert in automaton.metadata.alerts {
                out += "  0x\(hexDigits(alert.value, 2))  \(alert.name)" + (alert.description.map { ": \($0)" } ?? "") + "\n"
            }
        }
        Console.write(out)
    }
}
