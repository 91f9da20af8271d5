import Foundation
import Testing
import TestSupport

/// What a new user met trying the README: each fixed, each kept so.
@Suite struct RoughEdgesTests {
    @Test func ericAloneIsAMistakeWithTheHelp() throws {
        let run = try Run("eric", [])
        #expect(run.status == 2 && run.stdout.isEmpty && run.stderr.hasPrefix("OVERVIEW: The ERIC integrity checker's software twin"), "\(run.stderr)")
        #expect(run.stderr.contains("SUBCOMMANDS:") && run.stderr.contains("watch"))
    }

    @Test func jobsHelpSaysItsDefaultOnce() throws {
        let help = try Run("eric", ["scan", "--help"]).stdout
        #expect(help.contains("Worker threads (default: one per core).") && !help.contains("(default: 0)"), "\(help)")
    }

    /// The README's examples that name the bundled files.
    @Test func readmeExamplesOnTheBundledFilesWork() throws {
        let trace = try Run("eric", ["trace", "--automaton", "idt", "--page", "0x8000", "Fixtures/dumps/example.raw"])
        #expect(trace.status == 0 && trace.stdout.hasSuffix("1 alert\n"), "\(trace.stdout)")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for arguments in [["firmware/eric.S", "-o", directory.appendingPathComponent("eric.elf").path],
                          ["--format", "binary", "--text-address", "0x860000", "-l", "firmware/eric.S", "-o", directory.appendingPathComponent("eric.bin").path]] {
            let run = try Run("lm32as", arguments)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
        }
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("`Fixtures/dumps/example.raw`, 1.25 MiB of memory") && !readme.contains("boot.S"))
        let scan = try Run("eric", ["scan", "Fixtures/dumps/example.raw"])
        #expect(scan.stdout.contains("(raw, 1 range, 1.25 MiB of memory)"))
    }

    /// The JSON summary names the dump, its format and what was unreadable, and the SoC's uses
    /// the direct scan's keys for what means the same.
    @Test func jsonSummariesShareTheirKeys() throws {
        func summary(_ arguments: [String]) throws -> [String: Any] {
            let run = try Run("eric", ["scan", "--json"] + arguments + ["Fixtures/dumps/example.raw"])
            let last = try #require(run.stdout.split(separator: "\n").last)
            return try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        }
        let direct = try summary([]), board = try summary(["--soc"])
        for object in [direct, board] {
            #expect(object["dump"] as? String == "Fixtures/dumps/example.raw" && object["format"] as? String == "raw")
            #expect(object["unreadable_bytes"] as? Int == 0 && object["pages"] as? Int == 320 && object["bytes"] as? Int == 1_310_720)
        }
        let shared = ["dump", "format", "unreadable_bytes", "pages", "bytes", "skipped_bytes", "mpu_cycles", "fetch_cycles", "follow_up_runs",
                      "follow_up_fetch_cycles", "follow_up_cycles", "findings", "candidates", "device_seconds", "host_seconds", "timing", "clock_hz"]
        for key in shared { #expect(direct[key] != nil && board[key] != nil, "\(key)") }
        for key in ["mpu_cycles", "fetch_cycles", "follow_up_runs", "findings", "candidates"] {
            #expect(direct[key] as? Int == board[key] as? Int, "\(key): \(direct[key] ?? "-") vs \(board[key] ?? "-")")
        }
    }

    /// `--automaton NAME` means the same to scan and trace: a file, else a shipped automaton;
    /// neither is one located line listing the shipped names.
    @Test func automatonNamesMeanTheSameEverywhere() throws {
        let scan = try Run("eric", ["scan", "--automata", "none", "--automaton", "idt", "Fixtures/dumps/example.raw"])
        #expect(scan.status == 1 && scan.stdout.contains("0x0000000000008000  idt"), "\(scan.stdout)\(scan.stderr)")
        let message = "nosuch: error: no such file, nor a shipped automaton of that name (shipped: ept-identity, ept, idt, pml4, vmcs-generic, vmcs, x86-walk)\n"
        for arguments in [["scan", "--automaton", "nosuch", "Fixtures/dumps/example.raw"],
                          ["trace", "--automaton", "nosuch", "--page", "0x8000", "Fixtures/dumps/example.raw"]] {
            let run = try Run("eric", arguments)
            #expect(run.status == 2 && run.stderr == message, "\(arguments): \(run.stderr)")
        }
    }

    /// On a terminal the progress bar is cleared before the findings are printed, so no line
    /// starts with the bar's text (the scan prints its reports after the sweep).
    @Test func theProgressBarIsClearedBeforeTheFindings() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        let eric = Run.binaries.appendingPathComponent("eric").path
        let run = try Run("/usr/bin/script", ["-qc", "\(eric) scan Fixtures/dumps/example.raw", "/dev/null"])
        let output = run.stdout.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(output.contains("] 100%"), "no progress bar drawn: \(output.prefix(200))")
        let afterClear = try #require(output.components(separatedBy: "\r\u{1b}[K").last)
        #expect(afterClear.hasPrefix("physical address    automaton"), "\(afterClear.prefix(120))")
        #expect(!afterClear.contains(" s left"), "the bar's text after the clear")
    }
}
