import ArgumentParser
import CLISupport
import Foundation

@main
struct Eric: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eric",
        abstract: "The ERIC integrity checker's software twin: run MPU automata over memory dumps.",
        discussion: """
            Exit status: 0 success (for scan: nothing found), 1 findings, 2 an error (bad
            input, a command-line mistake), as grep and clamscan do.
            """,
        subcommands: [Scan.self, Trace.self, Automata.self, SynthCommand.self, RunCommand.self, Listen.self, Baseline.self, Check.self])

    /// Runs the command; usage errors exit with 2 (not ArgumentParser's 64) so that every
    /// error has the same status.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(0)
            }
            Console.fail(message, code: 2)
        }
    }
}
