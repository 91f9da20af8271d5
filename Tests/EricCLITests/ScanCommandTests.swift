import Foundation
import TestSupport
import Testing

@Suite struct ScanCommandTests {
    /// A page-level match that nothing confirms (an identity table no VMCS reaches) is a
    /// candidate: shown with --candidates, never counted in the exit status.
    @Test func candidatesTableSummaryAndExitZero() throws {
        let dump = try identityDump()
        let run = try Run("eric", ["scan", "--candidates", "--automata", "ept-identity", dump.path])
        #expect(run.status == 0)
        #expect(run.stdout.contains("0x0000000000200000  ept-identity  EPT_IDENTITY_PT     candidate: EPT page table mapping 512 consecutive 4 KiB pages\n"
                                    + "                    unconfirmed: an EPT-shaped page that no VMCS and no complete hierarchy reaches\n"))
        #expect(run.stdout.contains("reports         0 findings, 1 candidate\n"))
        let quiet = try Run("eric", ["scan", "--automata", "ept-identity", dump.path])
        #expect(quiet.status == 0 && !quiet.stdout.contains("0x0000000000200000"))
        #expect(quiet.stdout.contains("reports         0 findings, 1 candidate (--candidates shows them)\n"))
        #expect(run.stdout.contains("pages scanned   1024 (4.00 MiB)\n"))
        // The 1023 other pages are zero: with the zero-page flag (docs/timing.md) the automaton
        // does not run on them; the matching page runs 3591 instructions in 4613 cycles
        // (MPUSimTests). Without the flag, each zero page runs 11 instructions in 13 cycles (8
        // loads at 1, mloadq 2, mask taken 2, intq 1). The link is the bottleneck either way.
        #expect(run.stdout.contains("MPU             3591 instructions, 4613 cycles"))
        #expect(run.stdout.contains("bottleneck      the PCIe link (page fetches 100%, automata 0% of the device's time)\n"))
        let plain = try Run("eric", ["scan", "--timing", "slides-plain", "--automata", "ept-identity", dump.path])
        #expect(plain.stdout.contains("MPU             \(1023 * 11 + 3591) instructions, \(1023 * 13 + 4613) cycles"))
    }

    @Test func jsonLinesAreTheSameForAnyJobCount() throws {
        let dump = try identityDump()
        func lines(_ jobs: String) throws -> [String] {
            let run = try Run("eric", ["scan", "--json", "--candidates", "--jobs", jobs, "--automata", "ept-identity", dump.path])
            #expect(run.status == 0)
            // host_seconds is the only field that may differ between runs.
            return run.stdout.split(separator: "\n").map { $0.replacingOccurrences(of: #""host_seconds":[0-9.e-]+,"#, with: "", options: .regularExpression) }
        }
        let one = try lines("1")
        #expect(one == (try lines("2")))
        #expect(one.count == 2)
        // The page fetches before the hit (the pages are zero: no run), then its int at run cycle
        // 4611 after its own fetch: 878,250 cycles, 10.978125 ms at 80 MHz.
        #expect(one[0] == #"{"automaton":"ept-identity","cycle":4611,"device_cycle":\#(512 * 1703 + 1703 + 4611),"device_seconds":0.010978125,"#
                + #""evidence":"an EPT-shaped page that no VMCS and no complete hierarchy reaches","follow_up":false,"name":"EPT_IDENTITY_PT","page":2097152,"#
                + #""pc":152,"structure":"ept","type":"candidate","value":16}"#)
        #expect(one[1].hasPrefix(#"{"automata":[{"alerts":1,"#))
    }

    @Test func rangeWithNothingFoundExitsZero() throws {
        let dump = try identityDump()
        let run = try Run("eric", ["scan", "--range", "0-1M", "--automata", "ept-identity", dump.path])
        #expect(run.status == 0)
        #expect(run.stdout.contains("pages scanned   256 (1.00 MiB)\n"))
    }

    @Test(arguments: [
        (["--range", "2M-1M"], "--range '2M-1M': the start must be below the end"),
        (["--range", "abc"], "--range 'abc' is not START-END"),
        (["--jobs=-1"], "--jobs must be 0 (one per core) or more"),
        (["--automata", "ept,bogus"], "unknown automaton 'bogus' (shipped: ept-identity, ept, idt, pml4, vmcs-generic, vmcs, x86-walk)"),
        (["--automata", "none"], "--automata none needs at least one --automaton file"),
        (["-D", "9=1"], "'9' is not a symbol name"),
        (["--soc", "--jobs", "2"], "--jobs does not apply with --soc: the device scans one page at a time"),
        (["--soc", "--range", "0-1M"], "--range does not apply with --soc"),
        (["--soc", "--engine", "fast"], "--engine must be auto, interpreter or compiled, not 'fast'"),
    ])
    func badOptionsExitTwo(_ options: [String], _ message: String) throws {
        let dump = try identityDump()
        let run = try Run("eric", ["scan"] + options + [dump.path])
        #expect(run.status == 2)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }
}

/// The page-level matches (findings and candidates) of a JSON scan as "0xADDRESS automaton/ALERT".
func findingSet(_ jsonLines: String, only type: String? = nil) -> Set<String> {
    Set(jsonLines.split(separator: "\n").filter { line in
        type.map { line.contains("\"type\":\"\($0)\"") } ?? (line.contains(#""type":"finding""#) || line.contains(#""type":"candidate""#))
    }.compactMap { line -> String? in
        guard let page = line.firstMatch(of: /"page":(\d+)/), let automaton = line.firstMatch(of: /"automaton":"([^"]+)"/),
              let name = line.firstMatch(of: /"name":"([^"]+)"/) else { return nil }
        return "0x\(String(UInt64(page.1)!, radix: 16)) \(automaton.1)/\(name.1)"
    })
}

/// What a ground-truth file (eric synth) says the shipped automata must find.
func truthSet(_ url: URL) throws -> Set<String> {
    struct Truth: Decodable { struct Planted: Decodable { var address: UInt64; var alerts: [String] }; var structures: [Planted] }
    let truth = try JSONDecoder().decode(Truth.self, from: Data(contentsOf: url))
    return Set(truth.structures.flatMap { planted in planted.alerts.map { "0x\(String(planted.address, radix: 16)) \($0)" } })
}

@Suite struct ExampleDumpTests {
    /// The README's bundled example: exactly what its ground truth lists.
    @Test func findsExactlyThePlantedStructures() throws {
        let run = try Run("eric", ["scan", "--json", "--candidates", "Fixtures/dumps/example.raw"])
        #expect(run.status == 1)
        let truth = try truthSet(packageRoot.appendingPathComponent("Fixtures/dumps/example.raw.truth.json"))
        #expect(truth.count == 21)
        #expect(findingSet(run.stdout) == truth)
        // Everything planted holds together (VMCS, their EPT hierarchy and host root, the VMXON
        // region), except an EPT page table no hierarchy reaches.
        #expect(findingSet(run.stdout, only: "candidate") == ["0xfa000 ept/EPT_PT"])
    }

    @Test func automataListsTheShippedOnes() throws {
        let run = try Run("eric", ["automata"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("vmcs: VMCS regions of known layouts"))
        #expect(run.stdout.contains("  0x2f  VMXON: VMXON region"))
    }
}

@Suite struct DumpFormatCommandTests {
    func synth(_ format: String, extra: [String] = []) throws -> URL {
        let url = try temporaryDirectory().appendingPathComponent("guest.\(format)")
        let run = try Run("eric", ["synth", "--seed", "11", "--size", "16M", "--format", format, "-o", url.path] + extra)
        #expect(run.status == 0, "\(run.stderr)")
        return url
    }

    @Test(arguments: ["raw", "lime", "elf"])
    func synthesizedDumpsGiveTheirGroundTruth(format: String) throws {
        let url = try synth(format)
        let run = try Run("eric", ["scan", "--json", "--candidates", url.path])
        #expect(run.status == 1)
        #expect(findingSet(run.stdout) == (try truthSet(URL(fileURLWithPath: url.path + ".truth.json"))))
        // Physical addresses, not file offsets: the second range starts at 8 MiB + the 2 MiB hole.
        #expect(findingSet(run.stdout).contains { $0.hasPrefix("0xa") || $0.hasPrefix("0xb") || $0.hasPrefix("0xc") || $0.hasPrefix("0xd") || $0.hasPrefix("0xe") || $0.hasPrefix("0xf") || $0.hasPrefix("0x1") })
    }

    @Test func truncatedLiMEIsScannedAsFarAsItIsValid() throws {
        let url = try synth("lime")
        var bytes = try Data(contentsOf: url)
        bytes.removeLast(5000)
        try bytes.write(to: url)
        let run = try Run("eric", ["scan", url.path])
        // The second header sits after 32 + 8 MiB bytes; its range starts at 8 MiB + 2 MiB.
        #expect(run.stderr.contains("warning: at byte \(32 + (8 << 20)): LiME range [0xa00000, 0x11fffff] runs past the end of the file: \((8 << 20) - 5000) of \(8 << 20) bytes present"))
        #expect(run.stdout.contains("5000 bytes unreadable, see the warnings"))
        #expect(run.status == 1)
    }

    @Test func unusableDumpExitsTwoWithTheOffset() throws {
        let url = try temporaryDirectory().appendingPathComponent("short.lime")
        try Data([0x45, 0x4d, 0x69, 0x4c, 1, 0, 0, 0]).write(to: url)
        let run = try Run("eric", ["scan", url.path])
        #expect(run.status == 2)
        #expect(run.stderr == "\(url.path): error: at byte 0: truncated LiME header: 8 of 32 bytes\n")
    }
}

@Suite struct EngineTests {
    /// With no working C compiler (and an empty cache), `auto` falls back to the interpreter
    /// with the same results, and `compiled` says why it cannot run.
    @Test func withoutACompiler() throws {
        let cache = try temporaryDirectory().path
        let environment = ["CC": "false", "ERIC_CACHE_DIR": cache]
        let arguments = ["scan", "Fixtures/dumps/example.raw"]
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
