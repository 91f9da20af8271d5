import ArgumentParser
import CLISupport
import Foundation

@main
struct Eric: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eric",
        abstract: "The ERIC integrity checker's software twin: run MPU automata over memory dumps.",
        discussion: """
            Exit status: 0 success (for scan: nothing found), 1 findings, 2 an error (bad \
            input, a command-line mistake), as grep and clamscan do.
            """,
        subcommands: [Scan.self, Trace.self, Automata.self, SynthCommand.self, RunCommand.self, Listen.self, Baseline.self, Check.self, Watch.self, Keygen.self, Seal.self, Push.self])

    /// Runs the command; usage errors exit with 2 (not ArgumentParser's 64) so that every
    /// error has the same status.
    static func main() {
        // A dump is read through a file mapping: a file cut short while it is read (a live
        // guest's RAM file replaced, a dump truncated by another program) faults on the pages
        // past its new end. Say so and exit 2 rather than die by the signal.
        signal(SIGBUS) { _ in
            let message = "eric: error: a file being read was cut short while eric read it (bus error); nothing was judged from it\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            _exit(2)
        }
        // `eric` alone names no command: the help, and the status of a command-line mistake.
        if CommandLine.arguments.count == 1 {
            FileHandle.standardError.write(Data((helpMessage() + "\n").utf8))
            Foundation.exit(2)
        }
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
