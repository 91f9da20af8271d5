/// The control channel (docs/protocol.md, "Control"): what an operator sends the board on UDP
/// port 17747, and what the firmware answers. Every number is big-endian.
///
/// Request (16 bytes, then data): "ERIC", version 1, type, device id (2), sequence (4, the
/// sender's, echoed in the answer), argument (4), data. Answer (20 bytes): "ERIC", version 1,
/// the type with bit 7 set, device id, the sequence, the result, the sealed set in place.
public enum ControlMessage {
    public enum Kind: UInt8, Sendable, CaseIterable {
        /// Data: bundle bytes for the checker's buffer at byte `argument` (a multiple of 4; the
        /// data a multiple of 4 bytes, at most `maximumData`). Answer: where the next byte goes.
        case load = 0x10
        /// `argument`: the bundle's length. Answer: the checker's BUNDLE_RESULT (0 installed).
        case commit = 0x11
        /// Sweep every page with the set in place. Answer: 0, then the sweep's records.
        case start = 0x12
        /// Answer: 0, then the board powers off.
        case shutdown = 0x13
        /// Answer: the version of the sealed set in place.
        case status = 0x14
        /// The MPU's host access for the next sweeps (`argument` 0 page: the page DMAed into a
        /// buffer; 1 word: a PCIe read per load). Answer: the mode in place, 0xffffffff for
        /// another argument (nothing changed).
        case mode = 0x15
        /// Data: the physical address (8 bytes) of a block of host memory (`blockSize`, aligned).
        /// Answer: 0 read, 1 not wholly in host memory, 2 not a block's start; then the address
        /// and (results 0 and 1) the block. Evidence for a verifier (docs/integrity.md).
        case read = 0x16
        /// `argument`: a range of host memory. Answer: how many ranges; then the range's start
        /// and end (exclusive), 0 and 0 past the last.
        case map = 0x17
        /// Data: the physical address (8 bytes) of a page of host memory. Answer: 0 hashed,
        /// 1 not wholly in host memory, 2 not a page's start; then the address and (0 and 1)
        /// the page's SHA-256 as the checker computes it (zeros for 1).
        case digest = 0x18
    }

    /// The bytes of host memory a READ answers with.
    public static let blockSize = 1024
    /// The result of an evidence request (READ, MAP, DIGEST) whose tag does not hold under the
    /// board's request key and boot nonce: answered with the bare 20 bytes, nothing read.
    public static let refused: UInt32 = 3

    public static let port: UInt16 = 17747
    public static let headerSize = 16
    public static let replySize = 20
    /// Data bytes per LOAD: a frame's payload stays well under the Ethernet MTU.
    public static let maximumData = 1024

    public static func request(_ kind: Kind, sequence: UInt32, argument: UInt32 = 0, data: [UInt8] = []) -> [UInt8] {
        AlertRecord.magic + [AlertRecord.version, kind.rawValue, 0, 0] + bigEndian(UInt64(sequence), 4)
            + bigEndian(UInt64(argument), 4) + data
    }
}

/// The firmware's answer to READ, MAP or DIGEST: the 20-byte answer, then the evidence; from a board
/// with a key, authenticated as a record is (version 2, then the boot nonce and the tag over
/// the nonce and everything before the trailer).
public struct EvidenceReply: Equatable, Sendable {
    public var reply: ControlReply
    /// What follows the answer: READ the address (8 bytes) and the block; MAP start and end;
    /// DIGEST the address and the page's SHA-256.
    public var evidence: [UInt8]
    public var authentication: AlertRecord.Authentication?
    /// The bytes the tag covers (with the boot nonce first).
    public var signedBytes: [UInt8]

    public init(payload: [UInt8]) throws(ProtocolError) {
        guard payload.count >= ControlMessage.replySize else {
            throw ProtocolError(offset: payload.count, message: "answer of \(payload.count) bytes, expected at least \(ControlMessage.replySize)")
        }
        let version = payload[4]
        guard version == AlertRecord.version || version == AlertRecord.authenticatedVersion else {
            throw ProtocolError(offset: 4, message: "protocol version \(version), expected 1 or 2 (authenticated)")
        }
        var plain = payload
        plain[4] = AlertRecord.version
        let trailer = version == AlertRecord.authenticatedVersion ? AlertRecord.trailerSize : 0
        guard payload.count >= ControlMessage.replySize + trailer else {
            throw ProtocolError(offset: payload.count, message: "authenticated answer of \(payload.count) bytes, too short for its trailer")
        }
        let end = payload.count - trailer
        reply = try ControlReply(payload: Array(plain[0..<ControlMessage.replySize]))
        let expected: [Int]
        switch reply.kind {
        case .read: expected = [8, 8 + ControlMessage.blockSize]
        case .map: expected = [16]
        case .digest: expected = [8, 8 + 32]
        default: throw ProtocolError(offset: 5, message: "an answer to \(reply.kind), not to READ, MAP or DIGEST")
        }
        // A refusal (an evidence request without a valid tag, a malformed one) is the bare answer.
        guard expected.contains(end - ControlMessage.replySize) || (end == ControlMessage.replySize && reply.result != 0) else {
            throw ProtocolError(offset: end, message: "\(end - ControlMessage.replySize) bytes of evidence after the answer, expected \(expected.map(String.init).joined(separator: " or "))")
        }
        evidence = Array(payload[ControlMessage.replySize..<end])
        signedBytes = Array(payload[0..<end])
        if trailer > 0 {
            let nonce = payload[end..<end + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            authentication = AlertRecord.Authentication(bootNonce: nonce, tag: Array(payload[(end + 8)...]))
        }
    }
}

/// The firmware's answer to a control message.
public struct ControlReply: Equatable, Sendable {
    public var kind: ControlMessage.Kind
    public var sequence: UInt32
    public var result: UInt32
    public var setVersion: UInt32

    public init(kind: ControlMessage.Kind, sequence: UInt32, result: UInt32, setVersion: UInt32) {
        self.kind = kind
        self.sequence = sequence
        self.result = result
        self.setVersion = setVersion
    }

    public init(payload: [UInt8]) throws(ProtocolError) {
        guard payload.count >= ControlMessage.replySize else {
            throw ProtocolError(offset: payload.count, message: "answer of \(payload.count) bytes, expected \(ControlMessage.replySize)")
        }
        guard Array(payload[0..<4]) == AlertRecord.magic else { throw ProtocolError(offset: 0, message: "no \"ERIC\" magic") }
        guard payload[4] == AlertRecord.version else { throw ProtocolError(offset: 4, message: "protocol version \(payload[4]), expected \(AlertRecord.version)") }
        guard payload[5] & 0x80 != 0, let kind = ControlMessage.Kind(rawValue: payload[5] & 0x7f) else {
            throw ProtocolError(offset: 5, message: "type 0x\(String(payload[5], radix: 16)) is not an answer to a control message")
        }
        func field(_ at: Int) -> UInt32 { payload[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        self.init(kind: kind, sequence: field(8), result: field(12), setVersion: field(16))
    }

    public var bytes: [UInt8] {
        AlertRecord.magic + [AlertRecord.version, kind.rawValue | 0x80, 0, 0] + bigEndian(UInt64(sequence), 4)
            + bigEndian(UInt64(result), 4) + bigEndian(UInt64(setVersion), 4)
    }
}

extension UDPFrame {
    /// A station's MAC for frames the host side puts on the board's wire (locally administered).
    public static let operatorMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01]

    public init(sourceIP: [UInt8], destinationIP: [UInt8], sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) {
        self.sourceIP = sourceIP
        self.destinationIP = destinationIP
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.payload = payload
    }

    /// The Ethernet II frame (no preamble, no FCS) carrying this datagram, with its IPv4 header
    /// checksum and UDP checksum.
    public func ethernetFrame(from source: [UInt8], to destination: [UInt8]) -> [UInt8] {
        let udpLength = 8 + payload.count
        var ip: [UInt8] = [0x45, 0] + bigEndian(UInt64(20 + udpLength), 2) + [0, 0, 0x40, 0, 64, 17, 0, 0] + sourceIP + destinationIP
        let ipSum = ~Self.onesComplementSum(ip)
        ip[10] = UInt8(ipSum >> 8)
        ip[11] = UInt8(ipSum & 0xff)
        var udp = bigEndian(UInt64(sourcePort), 2) + bigEndian(UInt64(destinationPort), 2) + bigEndian(UInt64(udpLength), 2) + [0, 0] + payload
        let pseudo = sourceIP + destinationIP + [0, 17] + bigEndian(UInt64(udpLength), 2)
        var udpSum = ~Self.onesComplementSum(udp, initial: UInt32(Self.onesComplementSum(pseudo)))
        if udpSum == 0 { udpSum = 0xffff }
        udp[6] = UInt8(udpSum >> 8)
        udp[7] = UInt8(udpSum & 0xff)
        return destination + source + [0x08, 0x00] + ip + udp
    }
}
