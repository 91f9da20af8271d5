/// The records of docs/protocol.md and the Ethernet/IPv4/UDP frames that carry them.
public struct AlertRecord: Equatable, Sendable {
    public enum Kind: UInt8, Sendable { case alert = 1, summary = 2 }
    public static let size = 56
    public static let magic: [UInt8] = Array("ERIC".utf8)
    public static let version: UInt8 = 1
    /// The version of a record that carries an authentication trailer (a board with a key).
    public static let authenticatedVersion: UInt8 = 2
    /// The trailer: the boot nonce (8 bytes) and the tag (16).
    public static let trailerSize = 24
    public static let port: UInt16 = 17746

    public var kind: Kind
    public var deviceID: UInt16 = 0
    public var sequence: UInt32
    public var automaton: UInt16
    public var nameID: UInt16
    public var value: UInt64
    public var page: UInt64
    public var mpuCycles: UInt64
    public var time: UInt64
    /// A summary's runs; an alert's origin (`origin`).
    public var runs: UInt32 = 0
    public var faults: UInt32 = 0
    /// The trailer of a version-2 record (docs/protocol.md, "Authenticated records").
    public var authentication: Authentication?

    public struct Authentication: Equatable, Sendable {
        /// Drawn by the checker at reset: one boot's records share it.
        public var bootNonce: UInt64
        public var tag: [UInt8]
        public init(bootNonce: UInt64, tag: [UInt8]) {
            self.bootNonce = bootNonce
            self.tag = tag
        }
    }

    /// What made an alert record (its bytes 48-51; docs/protocol.md): an alert of the sweep, an
    /// alert of a follow-up run, or a follow-up run that raised none (value 0), sent so that the
    /// listener knows the page was checked.
    public enum Origin: UInt32, Sendable {
        case sweep = 0, followUp = 1, followUpRun = 2
    }

    /// nil for a summary, or an origin this version does not know.
    public var origin: Origin? { kind == .alert ? Origin(rawValue: runs) : nil }

    public init(kind: Kind, deviceID: UInt16 = 0, sequence: UInt32, automaton: UInt16, nameID: UInt16, value: UInt64, page: UInt64,
                mpuCycles: UInt64, time: UInt64, runs: UInt32 = 0, faults: UInt32 = 0) {
        self.kind = kind
        self.deviceID = deviceID
        self.sequence = sequence
        self.automaton = automaton
        self.nameID = nameID
        self.value = value
        self.page = page
        self.mpuCycles = mpuCycles
        self.time = time
        self.runs = runs
        self.faults = faults
    }

    /// The payload: the body, then the trailer if the record is authenticated.
    public var bytes: [UInt8] {
        guard let authentication else { return body }
        return body + bigEndian(authentication.bootNonce, 8) + authentication.tag
    }

    /// The 56 bytes the tag covers (with the boot nonce): version 2 when authenticated.
    public var body: [UInt8] {
        var out = Self.magic + [authentication == nil ? Self.version : Self.authenticatedVersion, kind.rawValue]
        out += bigEndian(UInt64(deviceID), 2) + bigEndian(UInt64(sequence), 4) + bigEndian(UInt64(automaton), 2) + bigEndian(UInt64(nameID), 2)
        for field in [value, page, mpuCycles, time] { out += bigEndian(field, 8) }
        return out + bigEndian(UInt64(runs), 4) + bigEndian(UInt64(faults), 4)
    }

    /// Parses a payload; the error says which byte is wrong.
    public init(payload: [UInt8]) throws(ProtocolError) {
        guard payload.count >= Self.size else { throw ProtocolError(offset: payload.count, message: "record of \(payload.count) bytes, expected \(Self.size)") }
        guard Array(payload[0..<4]) == Self.magic else { throw ProtocolError(offset: 0, message: "no \"ERIC\" magic") }
        guard payload[4] == Self.version || payload[4] == Self.authenticatedVersion else {
            throw ProtocolError(offset: 4, message: "protocol version \(payload[4]), expected \(Self.version) or \(Self.authenticatedVersion) (authenticated)")
        }
        let authenticated = payload[4] == Self.authenticatedVersion
        guard !authenticated || payload.count >= Self.size + Self.trailerSize else {
            throw ProtocolError(offset: payload.count, message: "authenticated record of \(payload.count) bytes, expected \(Self.size + Self.trailerSize)")
        }
        guard let kind = Kind(rawValue: payload[5]) else { throw ProtocolError(offset: 5, message: "record type \(payload[5]) is neither 1 (alert) nor 2 (summary)") }
        func field(_ at: Int, _ size: Int) -> UInt64 { payload[at..<at + size].reduce(0) { $0 << 8 | UInt64($1) } }
        self.init(kind: kind, deviceID: UInt16(field(6, 2)), sequence: UInt32(field(8, 4)), automaton: UInt16(field(12, 2)), nameID: UInt16(field(14, 2)),
                  value: field(16, 8), page: field(24, 8), mpuCycles: field(32, 8), time: field(40, 8),
                  runs: UInt32(field(48, 4)), faults: UInt32(field(52, 4)))
        if authenticated {
            authentication = Authentication(bootNonce: field(Self.size, 8), tag: Array(payload[(Self.size + 8)..<(Self.size + Self.trailerSize)]))
        }
    }
}

public struct ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
    public var description: String { "byte \(offset): \(message)" }
}

/// The low `size` bytes of `value`, most significant first (the protocol's byte order).
public func bigEndian(_ value: UInt64, _ size: Int) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (size - 1 - $0))) }
}

/// An Ethernet II / IPv4 / UDP frame (no preamble, no FCS), as the firmware sends them.
public struct UDPFrame: Equatable, Sendable {
    public static let deviceMAC: [UInt8] = [0x10, 0xe2, 0xd5, 0, 0, 0]
    public static let broadcastMAC: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
    public static let deviceIP: [UInt8] = [192, 168, 0, 42]
    public static let collectorIP: [UInt8] = [192, 168, 0, 14]

    public var sourceIP: [UInt8]
    public var destinationIP: [UInt8]
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var payload: [UInt8]

    /// The RFC 1071 sum, folded (not complemented).
    static func onesComplementSum(_ bytes: some Collection<UInt8>, initial: UInt32 = 0) -> UInt16 {
        var sum = initial
        var iterator = bytes.makeIterator()
        while let high = iterator.next() {
            sum += UInt32(high) << 8 | UInt32(iterator.next() ?? 0)
        }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return UInt16(sum)
    }

    /// Parses a frame, checking the IPv4 header checksum and the UDP checksum.
    public init(frame: [UInt8]) throws(ProtocolError) {
        guard frame.count >= 42 else { throw ProtocolError(offset: frame.count, message: "frame of \(frame.count) bytes is too short for Ethernet, IPv4 and UDP headers") }
        guard frame[12] == 0x08, frame[13] == 0x00 else { throw ProtocolError(offset: 12, message: "EtherType is not IPv4 (0x0800)") }
        guard frame[14] == 0x45 else { throw ProtocolError(offset: 14, message: "not IPv4 without options (0x45)") }
        guard frame[23] == 17 else { throw ProtocolError(offset: 23, message: "IP protocol \(frame[23]), expected 17 (UDP)") }
        let header = frame[14..<34]
        guard Self.onesComplementSum(header) == 0xffff else { throw ProtocolError(offset: 24, message: "bad IPv4 header checksum") }
        let totalLength = Int(frame[16]) << 8 | Int(frame[17])
        guard totalLength >= 28, 14 + totalLength <= frame.count else { throw ProtocolError(offset: 16, message: "IPv4 total length \(totalLength) does not fit the frame") }
        let udp = frame[34..<(14 + totalLength)]
        let udpLength = Int(frame[38]) << 8 | Int(frame[39])
        guard udpLength == udp.count else { throw ProtocolError(offset: 38, message: "UDP length \(udpLength), the IP packet holds \(udp.count)") }
        if frame[40] != 0 || frame[41] != 0 {
            let pseudo = Array(frame[26..<34]) + [0, 17] + bigEndian(UInt64(udpLength), 2)
            let sum = Self.onesComplementSum(udp, initial: UInt32(Self.onesComplementSum(pseudo)))
            guard sum == 0xffff else { throw ProtocolError(offset: 40, message: "bad UDP checksum") }
        }
        sourceIP = Array(frame[26..<30])
        destinationIP = Array(frame[30..<34])
        sourcePort = UInt16(frame[34]) << 8 | UInt16(frame[35])
        destinationPort = UInt16(frame[36]) << 8 | UInt16(frame[37])
        payload = Array(frame[42..<(14 + totalLength)])
    }
}
