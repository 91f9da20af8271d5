import Dumps
import Foundation
import MPUAsm
import MPUSim
import TestSupport
import Testing

/// Writes `bytes` to a new file and opens it as a dump.
func open(_ bytes: [UInt8], name: String = "dump") throws -> MappedDump {
    let url = try temporaryDirectory().appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return try MappedDump(path: url.path)
}

func layout(_ dump: MappedDump) -> [[UInt64]] {
    dump.ranges.map { [$0.physicalStart, $0.length, UInt64($0.bytes.load(as: UInt8.self))] }
}

/// Three pieces with holes between them; each piece's bytes start with a marker.
let pieces: [DumpWriter.Piece] = [
    (0x1000, [UInt8](repeating: 0xA1, count: 0x2000)),
    (0x10_0000, [UInt8](repeating: 0xB2, count: 0x1000)),
    (0x1_0000_0000, [UInt8](repeating: 0xC3, count: 0x3000)),
]

@Suite struct DumpFormatTests {
    @Test func rawIsOneRangeFromZero() throws {
        let dump = try open(DumpWriter.raw([(0, [7, 7, 7])]))
        #expect(dump.format == .raw)
        #expect(layout(dump) == [[0, 3, 7]])
    }

    @Test func limeRangesAtTheirAddresses() throws {
        let bytes = DumpWriter.lime(pieces)
        // The first header by hand: magic 0x4C694D45 little-endian, version 1, start, end (inclusive).
        #expect(Array(bytes[0..<32]) == [0x45, 0x4d, 0x69, 0x4c, 1, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0xff, 0x2f, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8))
        let dump = try open(bytes)
        #expect(dump.format == .lime)
        #expect(layout(dump) == [[0x1000, 0x2000, 0xA1], [0x10_0000, 0x1000, 0xB2], [0x1_0000_0000, 0x3000, 0xC3]])
        #expect(dump.problems.isEmpty)
    }

    @Test(arguments: [(true, false), (false, false), (true, true), (false, true)])
    func elfCoreLoadSegmentsByPhysicalAddress(wide: Bool, extended: Bool) throws {
        let small = wide ? pieces : Array(pieces.prefix(2)) // ELF32 addresses stop at 4 GiB
        let bytes = DumpWriter.elfCore(small, wide: wide, extendedNumbering: extended)
        let dump = try open(bytes)
        #expect(dump.format == .elfCore)
        #expect(layout(dump) == small.map { [$0.physicalStart, UInt64($0.bytes.count), UInt64($0.bytes[0])] })
        #expect(dump.problems.isEmpty)
    }

    @Test func readelfAgreesWithTheWriter() throws {
        // GNU readelf reads the core independently: a NOTE and three LOADs at the right PhysAddr.
        let url = try temporaryDirectory().appendingPathComponent("core.elf")
        try Data(DumpWriter.elfCore(pieces)).write(to: url)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/readelf")
        process.arguments = ["-lW", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains("Elf file type is CORE"))
        let loads = text.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("LOAD") }
        #expect(loads.count == 3)
        #expect(loads.map { $0.split(separator: " ", omittingEmptySubsequences: true)[3] } == ["0x0000000000001000", "0x0000000000100000", "0x0000000100000000"])
        #expect(text.contains("NOTE"))
    }
}

@Suite struct DumpProblemTests {
    @Test func limeTruncatedInTheLastRangeScansWhatIsThere() throws {
        var bytes = DumpWriter.lime(pieces)
        bytes.removeLast(0x1800)
        let dump = try open(bytes)
        #expect(layout(dump) == [[0x1000, 0x2000, 0xA1], [0x10_0000, 0x1000, 0xB2], [0x1_0000_0000, 0x1800, 0xC3]])
        #expect(dump.problems.count == 1)
        let problem = try #require(dump.problems.first)
        // Third header: after 32 + 0x2000 and 32 + 0x1000 bytes.
        #expect(problem.offset == UInt64(32 + 0x2000 + 32 + 0x1000))
        #expect(problem.skippedBytes == 0x1800)
        #expect(problem.message.contains("runs past the end of the file: 6144 of 12288 bytes present"))
    }

    @Test func limeEndBeforeStartStopsThereWithItsOffset() throws {
        var bytes = DumpWriter.lime(pieces)
        let second = 32 + 0x2000
        bytes.replaceSubrange((second + 16)..<(second + 24), with: [0, 0, 0, 0, 0, 0, 0, 0]) // end = 0 < start
        let dump = try open(bytes)
        #expect(layout(dump) == [[0x1000, 0x2000, 0xA1]])
        #expect(dump.problems.first?.offset == UInt64(second + 16))
        #expect(dump.problems.first?.message.hasPrefix("LiME range end 0x0 is before its start 0x100000") == true)
    }

    @Test func limeOverlappingRangeIsSkipped() throws {
        let bytes = DumpWriter.lime([(0x1000, [1, 1, 1, 1]), (0x2000, [2, 2])]) + DumpWriter.lime([(0x1002, [3, 3])])
        let dump = try open(bytes)
        #expect(layout(dump) == [[0x1000, 4, 1], [0x2000, 2, 2]])
        #expect(dump.problems.count == 1)
        #expect(dump.problems.first?.message.contains("overlaps the range before it") == true)
    }

    @Test func limeBadMagicMidFile() throws {
        var bytes = DumpWriter.lime(pieces)
        bytes[32 + 0x2000] = 0x00
        let dump = try open(bytes)
        #expect(layout(dump) == [[0x1000, 0x2000, 0xA1]])
        #expect(dump.problems.first?.description == "at byte \(32 + 0x2000): bad LiME magic: expected 45 4d 69 4c, found 00 4d 69 4c; the rest of the file is not scanned")
    }

    @Test func limeTruncatedFirstHeaderIsAnError() throws {
        let bytes = Array(DumpWriter.lime(pieces).prefix(20))
        #expect(throws: DumpError.self) { try open(bytes) }
        do { _ = try open(bytes) } catch let error as DumpError { #expect(error.offset == 0 && error.message == "truncated LiME header: 20 of 32 bytes") }
    }

    @Test func elfSegmentPastTheEndOfFile() throws {
        var bytes = DumpWriter.elfCore(pieces)
        bytes.removeLast(0x1000)
        let dump = try open(bytes)
        #expect(layout(dump) == [[0x1000, 0x2000, 0xA1], [0x10_0000, 0x1000, 0xB2], [0x1_0000_0000, 0x2000, 0xC3]])
        // The third PT_LOAD entry: header 64 + (NOTE + 2 LOADs) x 56.
        #expect(dump.problems.first?.offset == UInt64(64 + 3 * 56))
        #expect(dump.problems.first?.skippedBytes == 0x1000)
    }

    @Test func elfThatIsNotACoreFileIsAnError() throws {
        var bytes = DumpWriter.elfCore(pieces)
        bytes[16] = 2 // ET_EXEC
        do {
            _ = try open(bytes)
            Issue.record("an executable was accepted as a dump")
        } catch let error as DumpError {
            #expect(error.offset == 16)
            #expect(error.message == "ELF file of type 2 is not a core dump (ET_CORE, 4)")
        }
    }

    @Test func elfProgramHeadersPastTheEnd() throws {
        let bytes = Array(DumpWriter.elfCore(pieces).prefix(100))
        do {
            _ = try open(bytes)
            Issue.record("accepted")
        } catch let error as DumpError {
            #expect(error.offset == 32)
            #expect(error.message.contains("program header table (4 entries at byte 64) runs past the end of the file"))
        }
    }
}

@Suite struct DumpScanTests {
    /// The same pages in raw, LiME and ELF form give the same findings at the same physical
    /// addresses (not file offsets).
    @Test func sameFindingsInEveryFormat() throws {
        var table = [UInt8](repeating: 0, count: 4096)
        for i in 0..<512 {
            let entry = UInt64(0x4000_0000 + i * 0x1000) | 0x37
            for k in 0..<8 { table[i * 8 + k] = UInt8(truncatingIfNeeded: entry >> UInt64(8 * k)) }
        }
        let memory: [DumpWriter.Piece] = [(0x2000, [UInt8](repeating: 0, count: 0x3000)), (0x50_0000, [UInt8](repeating: 1, count: 0x1000) + table)]
        let source = try String(contentsOfFile: packageRoot.path + "/automata/ept-identity.s", encoding: .utf8)
        let automaton = Automaton(image: MPUAssembler.assemble(source: source).image!)
        var results: [[UInt64]] = []
        for bytes in [DumpWriter.raw(memory), DumpWriter.lime(memory), DumpWriter.elfCore(memory)] {
            var pages: [UInt64] = []
            let statistics = Scanner(automata: [automaton], options: ScanOptions(engine: .interpreter)).run(try open(bytes)) {
                if case .finding(let finding) = $0 { pages.append(finding.pageAddress) }
            }
            results.append(pages + [statistics.pages])
        }
        #expect(results[0] == [0x50_1000, UInt64(0x50_2000 / 4096)]) // raw: every page from 0
        #expect(results[1] == [0x50_1000, 5])                           // LiME and ELF: only the ranges
        #expect(results[2] == results[1])
    }
}

@Suite struct UnsupportedDumpTests {
    /// A kdump signature is never scanned as raw bytes: read as kdump (a header of zeros has
    /// no block size; a flattened one no end record), or refused (the old diskdump format),
    /// each with where and why.
    @Test(arguments: [("KDUMP   ", UInt64(428), "block size 0: this eric reads kdump files of 4 KiB pages (x86)"),
                      ("DISKDUMP", 0, "a diskdump (\"DISKDUMP\" signature, the old diskdump driver's format) is not supported: write an ELF dump instead (makedumpfile -E) or a kdump-compressed one"),
                      ("makedumpfile", 8192, "the flattened kdump ends without its end record (offset -1)")])
    func kdumpSignaturesAreNeverRaw(signature: String, offset: UInt64, message: String) throws {
        do {
            _ = try open(Array(signature.utf8) + [UInt8](repeating: 0, count: 8192))
            Issue.record("accepted")
        } catch let error as DumpError {
            #expect(error.offset == offset && error.message == message, "\(error)")
        }
    }
}
