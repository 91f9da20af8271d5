import Correlation
import Dumps
import Foundation
import MPUAsm
import MPUISA
import MPUSim
import ShippedAutomata
import Synth
import TestSupport
import Testing

/// The shipped automata, assembled from automata/*.s.
let shipped: [Automaton] = {
    let directory = packageRoot.appendingPathComponent("automata")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.filter { $0.hasSuffix(".s") }.sorted() ?? []
    return files.map { file in
        let result = MPUAssembler.assemble(path: directory.appendingPathComponent(file).path)
        guard let image = result.image else { fatalError("\(file): \(result.diagnostics.map(\.headline))") }
        return Automaton(image: image)
    }
}()

/// (address, "automaton/ALERT") for every structure alert of a scan (findings and candidates
/// alike: the page-level matches, as the correlation reads them).
func findings(_ memory: any PhysicalMemory, engine: Engine = .automatic) -> (Set<String>, [FaultReport], ScanStatistics) {
    let outcome = CorrelatedScan(automata: shipped, options: ScanOptions(jobs: 2, engine: engine)).run(memory)
    let found = Set(outcome.reports.map { "\(hexAddress($0.page)) \($0.automaton)/\($0.name ?? "?")" })
    return (found, outcome.faults, outcome.statistics)
}

func hexAddress(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

func expected(_ dump: SynthDump) -> Set<String> {
    Set(dump.planted.flatMap { planted in planted.alerts.map { "\(hexAddress(planted.address)) \($0)" } })
}

@Suite struct GroundTruthTests {
    @Test func everyShippedAutomatonIsThere() {
        #expect(Set(shipped.map(\.name)) == ["ept", "ept-identity", "idt", "pml4", "vmcs", "vmcs-generic", "x86-walk"])
    }

    /// Every planted structure is found at its address with the right alert, and nothing
    /// else is reported (no false positive), in raw, LiME and ELF form.
    @Test(arguments: SynthDump.Format.allCases)
    func everyPlantedStructureAndNothingElse(format: SynthDump.Format) throws {
        let dump = SynthDump(seed: 2014, size: 32 << 20)
        let path = try temporaryDirectory().appendingPathComponent("synth.\(format.rawValue)").path
        try dump.write(to: path, format: format)
        let memory = try MappedDump(path: path)
        #expect(memory.problems.isEmpty)
        let (found, faults, statistics) = findings(memory)
        let want = expected(dump)
        #expect(want.count >= 40)
        #expect(found.subtracting(want).isEmpty, "false positives: \(found.subtracting(want).sorted())")
        #expect(want.subtracting(found).isEmpty, "missed: \(want.subtracting(found).sorted())")
        #expect(faults.isEmpty)
        #expect(statistics.pages == (format == .raw ? (32 << 20) / 4096 + 512 : (32 << 20) / 4096))
    }

    @Test func otherSeedsToo() throws {
        for seed: UInt64 in [1, 7, 99] {
            let dump = SynthDump(seed: seed, size: 16 << 20)
            let path = try temporaryDirectory().appendingPathComponent("synth.lime").path
            try dump.write(to: path, format: .lime)
            let (found, _, _) = findings(try MappedDump(path: path), engine: .interpreter)
            #expect(found == expected(dump), "seed \(seed): extra \(found.subtracting(expected(dump)).sorted()), missed \(expected(dump).subtracting(found).sorted())")
        }
    }

    @Test func sameSeedSameBytes() throws {
        let a = try temporaryDirectory().appendingPathComponent("a.elf").path
        let b = try temporaryDirectory().appendingPathComponent("b.elf").path
        try SynthDump(seed: 5, size: 8 << 20).write(to: a, format: .elf)
        try SynthDump(seed: 5, size: 8 << 20).write(to: b, format: .elf)
        #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b))
        #expect(try SynthDump(seed: 5, size: 8 << 20).truthJSON(format: .elf) == SynthDump(seed: 5, size: 8 << 20).truthJSON(format: .elf))
    }
}

@Suite struct EmbeddedAutomataTests {
    /// `eric` carries the automata as text: they must be today's files.
    @Test func embeddedSourcesMatchTheFiles() throws {
        let directory = packageRoot.appendingPathComponent("automata")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".s") }.sorted()
        #expect(ShippedAutomata.sources.map(\.file) == files, "run scripts/embed-automata.py")
        for (file, source) in ShippedAutomata.sources {
            #expect(source == (try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)), "\(file) changed: run scripts/embed-automata.py")
        }
        let firmware = try String(contentsOf: packageRoot.appendingPathComponent("firmware/eric.S"), encoding: .utf8)
        #expect(ShippedFirmware.source == firmware, "firmware/eric.S changed: run scripts/embed-automata.py")
    }

    /// `eric` runs the images without assembling the sources: each must be, byte for byte,
    /// what today's assembler makes of today's source.
    @Test func embeddedImagesAreTheSourcesAssembled() throws {
        #expect(ShippedAutomata.images.map(\.file) == ShippedAutomata.sources.map(\.file), "run scripts/embed-automata.py")
        for ((file, base64), (_, source)) in zip(ShippedAutomata.images, ShippedAutomata.sources) {
            let assembled = try #require(MPUAssembler.assemble(source: source, name: file).image, "\(file) does not assemble")
            let embedded = try #require(Data(base64Encoded: base64), "\(file): not base64")
            #expect([UInt8](embedded) == assembled.serialized(), "\(file): the embedded image is not what the source assembles to: run scripts/embed-automata.py")
        }
    }
}
