import Crypto
import Foundation

/// A board's device key: 256 secret bits, written once into the checker after reset, from
/// which the bundle key, the program-memory key and the record key are derived (docs/security.md).
///
/// Key file (text): comment lines start with `#`; the first other line is `eric-device-key 1`,
/// the second the key as 64 hexadecimal digits; nothing follows.
public struct DeviceKey: Sendable, Equatable {
    public static let byteCount = 32
    public static let header = "eric-device-key 1"
    let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(KeyError) {
        guard bytes.count == Self.byteCount else {
            throw KeyError(line: 0, column: 0, message: "a device key is \(Self.byteCount) bytes, not \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// A new key from the system's random generator.
    public static func generate() -> DeviceKey {
        let key = SymmetricKey(size: .bits256)
        return try! DeviceKey(bytes: key.withUnsafeBytes { Array($0) })
    }

    /// Parses a key file's text; the error names the line and column.
    public init(file text: String) throws(KeyError) {
        var significant: [(number: Int, text: Substring)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            let content = trimmed.hasSuffix("\r") ? trimmed.dropLast() : trimmed
            if content.isEmpty || content.hasPrefix("#") { continue }
            significant.append((index + 1, content))
        }
        guard let first = significant.first else {
            throw KeyError(line: 1, column: 1, message: "expected '\(Self.header)', found no key")
        }
        guard first.text.trimmingCharacters(in: .whitespaces) == Self.header else {
            throw KeyError(line: first.number, column: 1, message: "expected '\(Self.header)' (not an ERIC device key file)")
        }
        guard significant.count >= 2 else {
            throw KeyError(line: first.number + 1, column: 1, message: "expected the key: \(2 * Self.byteCount) hexadecimal digits")
        }
        let line = significant[1]
        let digits = Array(line.text.trimmingCharacters(in: .whitespaces))
        if let bad = digits.firstIndex(where: { !$0.isHexDigit }) {
            throw KeyError(line: line.number, column: bad + 1, message: "expected \(2 * Self.byteCount) hexadecimal digits")
        }
        guard digits.count == 2 * Self.byteCount else {
            throw KeyError(line: line.number, column: 1, message: "expected \(2 * Self.byteCount) hexadecimal digits, found \(digits.count)")
        }
        let bytes = stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0..<$0 + 2]), radix: 16)! }
        if significant.count > 2 {
            throw KeyError(line: significant[2].number, column: 1, message: "unexpected text after the key")
        }
        self.bytes = bytes
    }

    /// The key file's text (the key in it: write it where only its owner can read).
    public var fileText: String {
        "# ERIC device key (docs/security.md). Whoever holds this file can load automata into the\n"
            + "# board and forge its alerts: keep it out of reach, as an SSH private key.\n"
            + Self.header + "\n" + bytes.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined() + "\n"
    }

    /// A key derived for one purpose (HKDF-SHA256): the device key itself is used for nothing
    /// else, so a key found for one purpose gives no other.
    func derived(_ purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: bytes), salt: Array("ERIC device key".utf8),
                               info: Array(purpose.utf8), outputByteCount: 32)
    }

    /// The key program memory is encrypted under for a set of this version (docs/security.md).
    public func programMemoryKey(version: UInt32) -> SymmetricKey { derived("program memory \(version)") }

    /// Names the key without revealing it: the first 8 bytes of a key derived for that purpose.
    /// A bundle carries it, so that a board can say "sealed for another key".
    public var identifier: UInt64 {
        derived("key identifier").withUnsafeBytes { raw in raw.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } }
    }
}

/// Not printed with the key: descriptions never contain it.
extension DeviceKey: CustomStringConvertible {
    public var description: String { "device key \(hex16(identifier))" }
}

public struct KeyError: Error, Sendable, CustomStringConvertible, Equatable {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { line > 0 ? "\(line):\(column): \(message)" : message }
}
