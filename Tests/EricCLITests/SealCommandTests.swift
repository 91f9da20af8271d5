import EricSoC
import Foundation
import Sealing
import Testing
import TestSupport

/// eric keygen and eric seal (docs/security.md).
@Suite struct SealCommandTests {
    @Test func keygenWritesASecretKeyOnceAndSealMakesWhatTheCheckerInstalls() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyPath = directory.appendingPathComponent("board.key").path
        let made = try Run("eric", ["keygen", "-o", keyPath])
        #expect(made.status == 0 && made.stdout.isEmpty, "\(made.stderr)")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let text = try String(contentsOfFile: keyPath, encoding: .utf8)
        let key = try DeviceKey(file: text)
        // Never printed: the output names the key by its identifier only.
        let hex = try #require(text.split(separator: "\n").last)
        #expect(!made.stderr.contains(hex) && made.stderr.contains("wrote \(key) to "))
        // A second keygen does not replace it.
        let again = try Run("eric", ["keygen", "-o", keyPath])
        let after = try String(contentsOfFile: keyPath, encoding: .utf8)
        #expect(again.status == 2 && again.stderr.contains("already exists") && after == text)

        let bundlePath = directory.appendingPathComponent("set7.bundle").path
        let sealed = try Run("eric", ["seal", "--key", keyPath, "--version", "7", "pml4", "idt", "-o", bundlePath])
        #expect(sealed.status == 0, "\(sealed.stderr)")
        let bundle = SealedBundle(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: bundlePath))))
        #expect(bundle.version == 7)
        let table = try AutomataTable(parsing: try bundle.open(key: key, loadedVersion: 0))
        // pml4 and idt are swept; x86-walk, which pml4 follows, comes along as a follow-up only.
        #expect(table.entries.count == 3 && table.sweepCount == 2)
        #expect(sealed.stderr.contains("sealed 3 automata (pml4, idt, x86-walk;"))
    }

    @Test func badKeysAndVersionsAreOneLocatedLine() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bad = directory.appendingPathComponent("bad.key")
        try "# mine\neric-device-key 1\n0123456789abcdefXX\n".write(to: bad, atomically: true, encoding: .utf8)
        let output = directory.appendingPathComponent("x.bundle").path
        let run = try Run("eric", ["seal", "--key", bad.path, "--version", "1", "-o", output])
        #expect(run.status == 2 && run.stderr == "\(bad.path):3:17: error: expected 64 hexadecimal digits\n", "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        let zero = try Run("eric", ["seal", "--key", bad.path, "--version", "0", "-o", output])
        #expect(zero.status == 2 && zero.stderr.contains("--version '0' is not a whole number from 1 to 4294967295"))
    }
}
