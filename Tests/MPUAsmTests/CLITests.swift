import Foundation
import MPUISA
import TestSupport
import Testing

@Suite struct MPUAsCommandTests {
    let fixtures = packageRoot.appendingPathComponent("Fixtures/mpuas")

    @Test func slidesListingPrintsTheImmediateErrorAndFails() throws {
        let run = try Run("mpuas", ["slides-ept-listing.s", "-o", "/dev/null"], in: fixtures.appendingPathComponent("err"))
        #expect(run.status == 1)
        let expected = try String(contentsOf: fixtures.appendingPathComponent("err/slides-ept-listing.expected"), encoding: .utf8)
        #expect(run.stderr == expected)
        #expect(run.stdout.isEmpty)
    }

    @Test func assemblesListsAndDisassemblesBackToTheSameImage() throws {
        let tmp = try temporaryDirectory()
        let image = tmp.appendingPathComponent("ept.mpu").path
        let run = try Run("mpuas", ["-l", "Fixtures/mpuas/ok/slides-ept-corrected.s", "-o", image])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("   0040  34 10 20 90 00 00 00 00     11    infw r1, r2, r9 // Loop stop condition\n"))
        let disassembly = try Run("mpuas", ["-d", image])
        #expect(disassembly.status == 0)
        #expect(disassembly.stdout.contains("entry:\n    infw r1, r2, r9"))
        let source = tmp.appendingPathComponent("again.s")
        try disassembly.stdoutBytes.write(to: source)
        let again = tmp.appendingPathComponent("again.mpu").path
        #expect(try Run("mpuas", [source.path, "-o", again]).status == 0)
        #expect(FileManager.default.contents(atPath: again) == FileManager.default.contents(atPath: image))
    }

    /// `-o /dev/null` as root once replaced the device with a regular file: output went to a
    /// temporary file renamed over the path. A device or a pipe is written into instead.
    @Test func outputIntoAPipeKeepsThePipe() throws {
        let tmp = try temporaryDirectory()
        let fifo = tmp.appendingPathComponent("out.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)     // so that mpuas's open does not wait
        #expect(reader >= 0)
        defer { close(reader) }
        let run = try Run("mpuas", ["Fixtures/mpuas/ok/slides-ept-corrected.s", "-o", fifo])
        #expect(run.status == 0, "\(run.stderr)")
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = read(reader, &buffer, buffer.count)
        let image = tmp.appendingPathComponent("ept.mpu").path
        #expect(try Run("mpuas", ["Fixtures/mpuas/ok/slides-ept-corrected.s", "-o", image]).status == 0)
        #expect(count > 0 && Array(buffer.prefix(max(count, 0))) == FileManager.default.contents(atPath: image).map(Array.init))
        var info = stat()
        #expect(stat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
    }

    @Test func defaultOutputNameIsTheInputStem() throws {
        let tmp = try temporaryDirectory()
        let source = fixtures.appendingPathComponent("ok/slides-ept-corrected.s").path
        #expect(try Run("mpuas", [source], in: tmp).status == 0)
        #expect(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("slides-ept-corrected.mpu").path))
    }

    @Test func intelHexMatchesObjcopysReading() throws {
        let tmp = try temporaryDirectory()
        let hex = tmp.appendingPathComponent("ept.hex").path
        let image = tmp.appendingPathComponent("ept.mpu").path
        let source = "Fixtures/mpuas/ok/slides-ept-corrected.s"
        #expect(try Run("mpuas", [source, "--format", "hex", "-o", hex]).status == 0)
        #expect(try Run("mpuas", [source, "-o", image]).status == 0)
        // GNU objcopy reads the Intel HEX independently; its binary must be the code section.
        let bin = tmp.appendingPathComponent("ept.bin").path
        let objcopy = Process()
        objcopy.executableURL = URL(fileURLWithPath: "/usr/bin/objcopy")
        objcopy.arguments = ["-I", "ihex", "-O", "binary", hex, bin]
        try objcopy.run()
        objcopy.waitUntilExit()
        #expect(objcopy.terminationStatus == 0)
        let parsed = try MPUImage(parsing: Array(FileManager.default.contents(atPath: image)!))
        #expect(Array(FileManager.default.contents(atPath: bin)!) == parsed.code)
    }

    @Test func readmemhHasOneWordPerLine() throws {
        let run = try Run("mpuas", ["Fixtures/mpuas/ok/slides-ept-corrected.s", "--format", "readmemh", "-o", "-"])
        #expect(run.status == 0)
        let words = run.stdout.split(separator: "\n").filter { !$0.hasPrefix("//") }
        #expect(words.count == 17)
        #expect(words.first == "e620000000001000")
        #expect(words.last == "cc00000000000000")
    }

    @Test func symbolMapAndDefinitions() throws {
        let run = try Run("mpuas", ["-D", "REVISION=0x10+2", "-D", "FLAG", "Fixtures/mpuas/ok/symbols.s", "--map", "-"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("0x0000000000000012  constant  REVISION\n"))
        #expect(run.stdout.contains("0x0000000000000003  alert     FOUND\n"))
        #expect(run.stdout.contains("0x0000000000000038  label     second.loop\n"))
    }

    @Test func badDefinitionIsAUsageError() throws {
        let run = try Run("mpuas", ["-D", "9X=1", "Fixtures/mpuas/ok/symbols.s", "-o", "/dev/null"])
        #expect(run.status == 64)
        #expect(run.stderr == "error: -D 9X=1: '9X' is not a symbol name\n")
    }

    @Test func missingInputFails() throws {
        let run = try Run("mpuas", ["no-such-file.s"])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("no-such-file.s: error: cannot read file: No such file or directory\n"))
    }

    @Test func nonUTF8InputIsLocated() throws {
        let tmp = try temporaryDirectory()
        let file = tmp.appendingPathComponent("latin1.s")
        try Data(Array("loadw r1, $1\n// caf".utf8) + [0xe9, 0x0a]).write(to: file)
        let run = try Run("mpuas", ["latin1.s"], in: tmp)
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("latin1.s:2:7: error: invalid UTF-8 byte 0xe9"))
    }

    enum Corruption: String, CaseIterable, Sendable {
        case badMagic, truncated, flippedBit, empty

        func apply(_ bytes: inout [UInt8]) {
            switch self {
            case .badMagic: bytes[0] = 0x7e
            case .truncated: bytes.removeLast(9)
            case .flippedBit: bytes[44] ^= 0x01
            case .empty: bytes = []
            }
        }

        var message: String {
            switch self {
            case .badMagic: return "at byte 0: bad magic: expected 7f 4d 50 55"
            case .truncated, .flippedBit: return "checksum mismatch"
            case .empty: return "at byte 0: bad magic: expected 7f 4d 50 55 (\"\\x7fMPU\"), found an empty file"
            }
        }
    }

    @Test(arguments: Corruption.allCases)
    func corruptImagesAreRejected(_ corruption: Corruption) throws {
        let name = corruption.rawValue, message = corruption.message
        let tmp = try temporaryDirectory()
        let image = tmp.appendingPathComponent("ept.mpu").path
        #expect(try Run("mpuas", ["Fixtures/mpuas/ok/slides-ept-corrected.s", "-o", image]).status == 0)
        var bytes = Array(FileManager.default.contents(atPath: image)!)
        corruption.apply(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: image))
        let run = try Run("mpuas", ["-d", image])
        #expect(run.status == 1, "\(name)")
        #expect(run.stderr.hasPrefix("\(image): error: "), "\(name)")
        #expect(run.stderr.contains(message), "\(name): \(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(name): one line")
    }

    @Test func unknownOpcodeInAnImageIsNamed() throws {
        let tmp = try temporaryDirectory()
        let image = tmp.appendingPathComponent("bad.mpu")
        // A valid container around a word with the undefined opcode 0x7.
        let bytes = MPUImage(code: [0xe6, 0x20, 0, 0, 0, 0, 0x10, 0, 0x70, 0, 0, 0, 0, 0, 0, 0]).serialized()
        try Data(bytes).write(to: image)
        let run = try Run("mpuas", ["-d", image.path])
        #expect(run.status == 1)
        #expect(run.stderr == "\(image.path): error: at byte 36: instruction at 0x0008: cannot decode 0x7000000000000000: undefined opcode 0x7\n")
    }

    @Test func helpDocumentsTheExitStatus() throws {
        let run = try Run("mpuas", ["--help"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("Exit status: 0 on success, 1 when the input has errors"))
    }
}
