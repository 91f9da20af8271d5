import Foundation
import TestSupport
import Testing

@Suite struct ScanCommandTests {
    @Test func findingsTableSummaryAndExitOne() throws {
        let dump = try identityDump()
        let run = try Run("eric", ["scan", "--automaton", "automata/ept-identity.s", dump.path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("0x0000000000200000  ept-identity          EPT_IDENTITY_PT             0x10\n"))
        #expect(run.stdout.contains("pages scanned   1024 (4.00 MiB)\n"))
        // 1023 non-matching zero pages run 11 instructions in 13 cycles each (8 loads at 1,
        // mloadq 2, mask taken 2, intq 1); the matching page 3591 in 4613 (MPUSimTests).
        #expect(run.stdout.contains("MPU             \(1023 * 11 + 3591) instructions, \(1023 * 13 + 4613) cycles"))
    }

    @Test func jsonLinesAreTheSameForAnyJobCount() throws {
        let dump = try identityDump()
        func lines(_ jobs: String) throws -> [String] {
            let run = try Run("eric", ["scan", "--json", "--jobs", jobs, "--automaton", "automata/ept-identity.s", dump.path])
            #expect(run.status == 1)
            // host_seconds is the only field that may differ between runs.
            return run.stdout.split(separator: "\n").map { $0.replacingOccurrences(of: #""host_seconds":[0-9.e-]+,"#, with: "", options: .regularExpression) }
        }
        let one = try lines("1")
        #expect(one == (try lines("2")))
        #expect(one.count == 2)
        // The page fetches and runs before the hit, then its int at run cycle 4611.
        #expect(one[0] == #"{"automaton":"ept-identity","cycle":4611,"device_cycle":\#(512 * (1703 + 13) + 1703 + 4611),"device_seconds":0.011061325,"name":"EPT_IDENTITY_PT","page":2097152,"pc":152,"type":"finding","value":16}"#)
        #expect(one[1].hasPrefix(#"{"automata":[{"alerts":1,"#))
    }

    @Test func rangeWithNothingFoundExitsZero() throws {
        let dump = try identityDump()
        let run = try Run("eric", ["scan", "--range", "0-1M", "--automaton", "automata/ept-identity.s", dump.path])
        #expect(run.status == 0)
        #expect(run.stdout.contains("pages scanned   256 (1.00 MiB)\n"))
    }

    @Test(arguments: [
        (["--range", "2M-1M"], "--range '2M-1M': the start must be below the end"),
        (["--range", "abc"], "--range 'abc' is not START-END"),
        (["--jobs=-1"], "--jobs must be 0 (one per core) or more"),
        ([], "give at least one --automaton"),
    ])
    func badOptionsExitTwo(_ options: [String], _ message: String) throws {
        let dump = try identityDump()
        let automaton = options.isEmpty ? [] : ["--automaton", "automata/ept-identity.s"]
        let run = try Run("eric", ["scan"] + automaton + options + [dump.path])
        #expect(run.status == 2)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }
}

@Suite struct ExampleDumpTests {
    /// Fixtures/dumps/make-example.py plants two identity tables and four near misses.
    @Test func findsExactlyThePlantedTables() throws {
        let run = try Run("eric", ["scan", "--json", "--automaton", "automata/ept-identity.s", "Fixtures/dumps/example.raw"])
        #expect(run.status == 1)
        let pages = run.stdout.split(separator: "\n").filter { $0.contains(#""type":"finding""#) }
            .compactMap { $0.firstMatch(of: /"page":(\d+)/).map { UInt64($0.1)! } }
        #expect(pages == [0x10000, 0x80000])
    }
}

@Suite struct EngineTests {
    /// With no working C compiler (and an empty cache), `auto` falls back to the interpreter
    /// with the same results, and `compiled` says why it cannot run.
    @Test func withoutACompiler() throws {
        let cache = try temporaryDirectory().path
        let environment = ["CC": "false", "ERIC_CACHE_DIR": cache]
        let arguments = ["scan", "--automaton", "automata/ept-identity.s", "Fixtures/dumps/example.raw"]
        let auto = try Run("eric", arguments, environment: environment)
        #expect(auto.status == 1)
        #expect(auto.stdout.contains("engine: interpreter)"))
        let compiled = try Run("eric", arguments + ["--engine", "compiled"], environment: environment)
        #expect(compiled.status == 2)
        #expect(compiled.stderr.hasPrefix("eric: error: --engine compiled: false failed (status 1)"))
        let interpreted = try Run("eric", arguments + ["--engine", "interpreter"])
        let withCompiler = try Run("eric", arguments + ["--engine", "compiled"], environment: ["ERIC_CACHE_DIR": cache])
        #expect(withCompiler.stdout.contains("engine: compiled)"))
        // Everything but the host-time line is identical.
        func body(_ text: String) -> String { text.split(separator: "\n").filter { !$0.hasPrefix("host time") }.joined(separator: "\n") }
        #expect(body(withCompiler.stdout) == body(interpreted.stdout))
        #expect(body(auto.stdout) == body(interpreted.stdout))
    }
}
