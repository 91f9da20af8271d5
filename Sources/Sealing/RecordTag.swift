import Crypto

/// The authentication of alert records (docs/protocol.md, "Authenticated records"): a board with
/// a device key appends to each record the boot nonce its checker drew at reset and a tag,
/// HMAC-SHA256 truncated to 128 bits under a key derived from the device key, over the nonce
/// and the record. The nonce tells one boot's records from another's (each boot's sequence
/// numbers start at 0); HMAC stays sound if a nonce ever repeats (only replay detection
/// across those two boots is lost).
public struct RecordAuthenticator: Sendable {
    public static let tagSize = 16
    /// The derived key's bytes (SymmetricKey is not Sendable).
    let key: [UInt8]

    public init(deviceKey: DeviceKey) {
        self.init(deviceKey: deviceKey, purpose: "alert records")
    }

    /// An authenticator of another kind of message, under its own derived key: "control
    /// requests" for a verifier's evidence requests (docs/protocol.md, READ), which the board
    /// answers only when their tag holds.
    public init(deviceKey: DeviceKey, purpose: String) {
        key = deviceKey.derived(purpose).withUnsafeBytes { Array($0) }
    }

    /// The authenticator of evidence requests (READ, MAP, DIGEST).
    public static func requests(_ deviceKey: DeviceKey) -> RecordAuthenticator {
        RecordAuthenticator(deviceKey: deviceKey, purpose: "control requests")
    }

    /// The tag of `body` (the record's bytes before the trailer) sent in the boot of `bootNonce`.
    public func tag(bootNonce: UInt64, body: some Collection<UInt8>) -> [UInt8] {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: key))
        mac.update(data: (0..<8).map { UInt8(truncatingIfNeeded: bootNonce >> UInt64(56 - 8 * $0)) })
        mac.update(data: Array(body))
        return Array(mac.finalize()).prefix(Self.tagSize).map { $0 }
    }

    /// Whether `tag` is the tag of `body` in that boot (compared in constant time).
    public func verify(bootNonce: UInt64, body: some Collection<UInt8>, tag: some Collection<UInt8>) -> Bool {
        let expected = self.tag(bootNonce: bootNonce, body: body)
        guard tag.count == expected.count else { return false }
        return zip(expected, tag).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
