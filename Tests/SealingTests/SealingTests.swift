import Crypto
import Foundation
import Sealing
import Testing

/// Key files and sealed bundles (docs/security.md).
@Suite struct SealingTests {
    static let key = try! DeviceKey(file: """
        # a test key
        eric-device-key 1
        000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
        """)
    static let other = try! DeviceKey(bytes: [UInt8](repeating: 0x5a, count: 32))
    static let table: [UInt8] = Array("a table of automata, in clear".utf8)

    @Test func keyFilesRoundTripAndNeverShowTheKey() throws {
        let generated = DeviceKey.generate()
        #expect(try DeviceKey(file: generated.fileText) == generated)
        #expect(generated != DeviceKey.generate())
        // The description names the key by its identifier only.
        #expect(!"\(Self.key)".contains("0102030405"))
        #expect("\(Self.key)".hasPrefix("device key "))
    }

    @Test func malformedKeyFilesAreLocated() {
        func error(_ text: String) -> String {
            do { _ = try DeviceKey(file: text); return "accepted" } catch { return error.description }
        }
        #expect(error("") == "1:1: expected 'eric-device-key 1', found no key")
        #expect(error("-----BEGIN OPENSSH PRIVATE KEY-----\n") == "1:1: expected 'eric-device-key 1' (not an ERIC device key file)")
        #expect(error("eric-device-key 1\n") == "2:1: expected the key: 64 hexadecimal digits")
        #expect(error("# c\neric-device-key 1\n00112233zz\n") == "3:9: expected 64 hexadecimal digits")
        #expect(error("eric-device-key 1\n0011\n") == "2:1: expected 64 hexadecimal digits, found 4")
        #expect(error("eric-device-key 1\n" + String(repeating: "ab", count: 32) + "\nmore\n") == "3:1: unexpected text after the key")
    }

    @Test func aBundleOpensOnlyWholeForItsKeyAndNewer() throws {
        let bundle = try SealedBundle.seal(table: Self.table, version: 7, key: Self.key)
        #expect(bundle.bytes.count == 40 + Self.table.count + 16)
        #expect(bundle.version == 7 && bundle.keyIdentifier == Self.key.identifier)
        // The table does not appear in clear.
        #expect(!bundle.bytes.indices.dropLast(8).contains { Array(bundle.bytes[$0..<$0 + 8]) == Array(Self.table.prefix(8)) })
        #expect(try bundle.open(key: Self.key, loadedVersion: 6) == Self.table)
        #expect(throws: SealedBundle.Refusal.notNewer(version: 7, loaded: 7)) { try bundle.open(key: Self.key, loadedVersion: 7) }
        #expect(throws: SealedBundle.Refusal.otherKey(Self.key.identifier)) { try bundle.open(key: Self.other, loadedVersion: 0) }
        // Any byte changed: the ciphertext, the tag, or the version in the header.
        for offset in [12, 15, 40, 40 + Self.table.count - 1, bundle.bytes.count - 1] {
            var bytes = bundle.bytes
            bytes[offset] ^= 1
            #expect(throws: SealedBundle.Refusal.forged) { try SealedBundle(bytes: bytes).open(key: Self.key, loadedVersion: 0) }
        }
        // The key identifier changed: called another key's (the tag would fail too).
        var renamed = bundle.bytes
        renamed[16] ^= 1
        #expect(throws: SealedBundle.Refusal.self) { try SealedBundle(bytes: renamed).open(key: Self.key, loadedVersion: 0) }
        // Cut short, or not a bundle.
        #expect(throws: SealedBundle.Refusal.malformed(offset: 84, message: "84 bytes, the header announces 85")) {
            try SealedBundle(bytes: Array(bundle.bytes.dropLast())).open(key: Self.key, loadedVersion: 0)
        }
        #expect(throws: SealedBundle.Refusal.malformed(offset: 10, message: "10 bytes, shorter than the 40-byte header")) {
            try SealedBundle(bytes: Array(bundle.bytes.prefix(10))).open(key: Self.key, loadedVersion: 0)
        }
        #expect(throws: SealedBundle.Refusal.malformed(offset: 0, message: "no \"ERICSEAL\" magic")) {
            try SealedBundle(bytes: [UInt8](repeating: 0, count: 100)).open(key: Self.key, loadedVersion: 0)
        }
    }

    /// The bundle is AES-256-GCM as the format says: opened here with the key derived by hand
    /// (HKDF-SHA256, salt "ERIC device key", info "bundle"), not through SealedBundle.
    @Test func theFormatIsWhatTheDocumentSays() throws {
        let bundle = try SealedBundle.seal(table: Self.table, version: 1, key: Self.key)
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: (0..<32).map { UInt8($0) }),
                                              salt: Array("ERIC device key".utf8), info: Array("bundle".utf8), outputByteCount: 32)
        let bytes = bundle.bytes
        let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: bytes[24..<36]), ciphertext: bytes[40..<(bytes.count - 16)],
                                        tag: bytes[(bytes.count - 16)...])
        #expect(Array(try AES.GCM.open(box, using: derived, authenticating: bytes[0..<40])) == Self.table)
        #expect(Array(bytes[0..<8]) == Array("ERICSEAL".utf8) && bytes[8] == 0 && bytes[9] == 1)
        #expect(Array(bytes[36..<40]) == [0, 0, 0, UInt8(Self.table.count)])
    }
}
