import Crypto

/// A sealed automata set: the checker's automata table (the one `eric` otherwise writes in
/// ROM, docs/soc.md), encrypted and authenticated with AES-256-GCM under a key derived from
/// the device key, with a version that must grow (docs/security.md).
///
///     0   8  "ERICSEAL"
///     8   2  format: 1
///     10  2  0
///     12  4  version of the set
///     16  8  identifier of the device key (DeviceKey.identifier)
///     24  12 nonce
///     36  4  n: bytes of the table
///     40  n  the table, encrypted
///     40+n 16 the GCM tag (over bytes 0-39 as associated data, and the table)
///
/// Every number is big-endian.
public struct SealedBundle: Sendable, Equatable {
    public static let magic = Array("ERICSEAL".utf8)
    public static let format: UInt16 = 1
    public static let headerSize = 40
    public static let tagSize = 16
    /// Program memory (64 KiB) and the table's own words, with room to spare.
    public static let maximumTableBytes = 256 * 1024
    public static var maximumSize: Int { headerSize + maximumTableBytes + tagSize }

    public let bytes: [UInt8]

    public var version: UInt32 { field(12, 4).map(UInt32.init) ?? 0 }
    public var keyIdentifier: UInt64 { field(16, 8) ?? 0 }

    func field(_ offset: Int, _ size: Int) -> UInt64? {
        guard bytes.count >= offset + size else { return nil }
        return bytes[offset..<offset + size].reduce(0) { $0 << 8 | UInt64($1) }
    }

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Seals `table` as set `version` for the board holding `key`.
    public static func seal(table: [UInt8], version: UInt32, key: DeviceKey) throws(SealError) -> SealedBundle {
        guard !table.isEmpty, table.count <= maximumTableBytes else {
            throw SealError("a table of \(table.count) bytes; a bundle holds 1 to \(maximumTableBytes)")
        }
        guard version > 0 else { throw SealError("version 0 is the board's unsealed state; versions start at 1") }
        var header = magic
        header += bigEndian(UInt64(format), 2) + [0, 0] + bigEndian(UInt64(version), 4) + bigEndian(key.identifier, 8)
        let nonce = AES.GCM.Nonce()
        header += Array(nonce) + bigEndian(UInt64(table.count), 4)
        do {
            let box = try AES.GCM.seal(table, using: key.derived("bundle"), nonce: nonce, authenticating: header)
            return SealedBundle(bytes: header + Array(box.ciphertext) + Array(box.tag))
        } catch {
            throw SealError("AES-GCM: \(error)")
        }
    }

    /// Why a board refuses a bundle (the checker's BUNDLE_RESULT codes).
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not a bundle, or cut short: the byte where it goes wrong.
        case malformed(offset: Int, message: String)
        /// Sealed for the key with this identifier.
        case otherKey(UInt64)
        /// The tag does not hold: changed on the way, or not made with this key.
        case forged
        /// Authentic, but not newer than the set in place.
        case notNewer(version: UInt32, loaded: UInt32)

        public var code: UInt32 {
            switch self {
            case .malformed: 1
            case .otherKey: 2
            case .forged: 3
            case .notNewer: 4
            }
        }

        public var description: String {
            switch self {
            case .malformed(let offset, let message): "malformed bundle: at byte \(offset): \(message)"
            case .otherKey(let id): "sealed for another device key (\(hex16(id)))"
            case .forged: "the bundle's tag does not hold: changed after sealing, or not sealed with this key"
            case .notNewer(let version, let loaded): "version \(version) is not newer than the loaded version \(loaded)"
            }
        }

        /// The reason for a BUNDLE_RESULT code, as a listener of the board's answer shows it.
        public static func describe(code: UInt32) -> String {
            switch code {
            case 0: "installed"
            case 1: "malformed bundle"
            case 2: "sealed for another device key"
            case 3: "the bundle's tag does not hold (tampered, or another key)"
            case 4: "version not newer than the loaded one"
            default: "refused (reason \(code))"
            }
        }
    }

    /// The table, if the bundle is whole, sealed for `key`, authentic, and newer than `loaded`.
    public func open(key: DeviceKey, loadedVersion loaded: UInt32) throws(Refusal) -> [UInt8] {
        guard bytes.count >= Self.headerSize else { throw .malformed(offset: bytes.count, message: "\(bytes.count) bytes, shorter than the 40-byte header") }
        guard Array(bytes[0..<8]) == Self.magic else { throw .malformed(offset: 0, message: "no \"ERICSEAL\" magic") }
        guard field(8, 2) == UInt64(Self.format) else { throw .malformed(offset: 8, message: "format \(field(8, 2)!), expected \(Self.format)") }
        let length = Int(field(36, 4)!)
        guard length > 0, length <= Self.maximumTableBytes else {
            throw .malformed(offset: 36, message: "a table of \(length) bytes; a bundle holds 1 to \(Self.maximumTableBytes)")
        }
        let expected = Self.headerSize + length + Self.tagSize
        guard bytes.count == expected else {
            throw .malformed(offset: min(bytes.count, expected), message: "\(bytes.count) bytes, the header announces \(expected)")
        }
        guard keyIdentifier == key.identifier else { throw .otherKey(keyIdentifier) }
        let table: [UInt8]
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: bytes[24..<36]),
                                            ciphertext: bytes[Self.headerSize..<(Self.headerSize + length)],
                                            tag: bytes[(Self.headerSize + length)...])
            table = Array(try AES.GCM.open(box, using: key.derived("bundle"), authenticating: bytes[0..<Self.headerSize]))
        } catch {
            throw .forged
        }
        guard version > loaded else { throw .notNewer(version: version, loaded: loaded) }
        return table
    }
}

public struct SealError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

func bigEndian(_ value: UInt64, _ size: Int) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (size - 1 - $0))) }
}

func hex16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}
