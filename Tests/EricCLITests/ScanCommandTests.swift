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

@Suite struct DumpFormatCommandTests {
    /// example.raw's first 384 KiB at 0 and its upper half at 16 GiB + 0x80000, as LiME.
    func limeExample(truncatedBy cut: Int = 0) throws -> URL {
        let raw = try Data(contentsOf: packageRoot.appendingPathComponent("Fixtures/dumps/example.raw"))
        func header(_ start: UInt64, _ end: UInt64) -> Data {
            var data = Data()
            for (value, size) in [(UInt64(0x4C69_4D45), 4), (1, 4), (start, 8), (end, 8), (0, 8)] {
                for k in 0..<size { data.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * k))) }
            }
            return data
        }
        var lime = header(0, 0x5_ffff) + raw.prefix(0x6_0000) + header(0x4_0008_0000, 0x4_000f_ffff) + raw.suffix(from: 0x8_0000)
        lime.removeLast(cut)
        let url = try temporaryDirectory().appendingPathComponent("example.lime")
        try lime.write(to: url)
        return url
    }

    @Test func limeFindingsCarryPhysicalAddresses() throws {
        let run = try Run("eric", ["scan", "--automaton", "automata/ept-identity.s", try limeExample().path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("0x0000000000010000  ept-identity"))
        #expect(run.stdout.contains("0x0000000400080000  ept-identity"))
        #expect(run.stdout.contains("(LiME, 2 ranges, 896.00 KiB of memory)"))
        #expect(run.stderr.isEmpty)
    }

    @Test func truncatedLiMEIsScannedAsFarAsItIsValid() throws {
        let run = try Run("eric", ["scan", "--automaton", "automata/ept-identity.s", try limeExample(truncatedBy: 5000).path])
        #expect(run.status == 1)
        // The second header sits after 32 + 0x60000 bytes.
        #expect(run.stderr.contains("warning: at byte \(32 + 0x6_0000): LiME range [0x400080000, 0x4000fffff] runs past the end of the file: 519288 of 524288 bytes present"))
        #expect(run.stdout.contains("0x0000000400080000  ept-identity"))
        #expect(run.stdout.contains("5000 bytes unreadable, see the warnings"))
    }

    @Test func unusableDumpExitsTwoWithTheOffset() throws {
        let url = try temporaryDirectory().appendingPathComponent("short.lime")
        try Data([0x45, 0x4d, 0x69, 0x4c, 1, 0, 0, 0]).write(to: url)
        let run = try Run("eric", ["scan", "--automaton", "automata/ept-identity.s", url.path])
        #expect(run.status == 2)
        #expect(run.stderr == "\(url.path): error: at byte 0: truncated LiME header: 8 of 32 bytes\n")
    }
}
