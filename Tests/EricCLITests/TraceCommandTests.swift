import Foundation
import TestSupport
import Testing

/// A 4 MiB raw dump with an identity-mapping EPT table at 0x200000.
func identityDump() throws -> URL {
    let url = try temporaryDirectory().appendingPathComponent("small.raw")
    var bytes = [UInt8](repeating: 0, count: 0x40_0000)
    for i in 0..<512 {
        let entry = UInt64(0x4000_0000 + i * 0x1000) | 0x37
        for k in 0..<8 { bytes[0x20_0000 + i * 8 + k] = UInt8((entry >> UInt64(8 * k)) & 0xff) }
    }
    try Data(bytes).write(to: url)
    return url
}

@Suite struct TraceCommandTests {
    @Test func tracesEveryStep() throws {
        let dump = try identityDump()
        let run = try Run("eric", ["trace", "--automaton", "automata/ept-identity.s", "--page", "0x200000", dump.path])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Set-up, 511 loop iterations of 7, then int and int 0 (see the cycle test in MPUSimTests).
        #expect(lines.filter { $0.hasPrefix("    ") && $0.contains("  0x0") }.count == 12 + 511 * 7 + 2)
        #expect(lines.contains("         8  0x0040  mloadq r4, $0                  [0x000] -> 0x40000037, r4 = 0x40000037"))
        #expect(lines.contains("        20  0x0090  infw r2, r1, r8                jump -> 0x0060"))
        #expect(lines.contains("      4611  0x0098  intb $0x10                     alert 0x10 EPT_IDENTITY_PT"))
        #expect(run.stdout.hasSuffix("end: int 0\n3591 instructions, 4613 cycles (57.66 us at 80.0 MHz), 512 host reads, 1 alert\n"))
    }

    @Test func wordModeCostsPCIeRoundTrips() throws {
        let dump = try identityDump()
        let run = try Run("eric", ["trace", "--automaton", "automata/ept-identity.s", "--page", "0x200000", "--timing", "word", dump.path])
        #expect(run.status == 0)
        // Each of the 512 mloads takes 1 + 64 cycles instead of 1 + 1 with the page buffer.
        #expect(run.stdout.contains("3591 instructions, \(4613 + 512 * 63) cycles"))
    }

    @Test(arguments: [
        (["--page", "0x200010"], "Error: --page 0x200010 is not 4 KiB aligned (the page holding it starts at 0x200000)"),
        (["--page", "0x1000000"], "error: no whole page at 0x1000000 in the dump (it holds 0x0-0x400000)"),
        (["--page", "zz"], "Error: --page 'zz' is not a number"),
        (["--page", "0", "--timing", "fast"], "Error: unknown timing preset 'fast' (known: slides, word, gen2x4, slides-plain)"),
    ])
    func badInputExitsWithTwo(_ arguments: [String], _ message: String) throws {
        let dump = try identityDump()
        let run = try Run("eric", ["trace", "--automaton", "automata/ept-identity.s"] + arguments + [dump.path])
        #expect(run.status == 2)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }

    @Test func brokenAutomatonSourceIsReportedWithItsLocation() throws {
        let dump = try identityDump()
        let source = try temporaryDirectory().appendingPathComponent("broken.s")
        try "    loadw r1, $0x10000\n    intq r0\n".write(to: source, atomically: true, encoding: .utf8)
        let run = try Run("eric", ["trace", "--automaton", source.path, "--page", "0", dump.path])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("\(source.path):1:15: error: immediate 0x10000 does not fit in 16 bits"))
    }

    @Test func missingDumpIsAnError() throws {
        let run = try Run("eric", ["trace", "--automaton", "automata/ept-identity.s", "--page", "0", "/nonexistent.raw"])
        #expect(run.status == 2)
        #expect(run.stderr == "/nonexistent.raw: error: cannot open dump: No such file or directory\n")
    }
}
