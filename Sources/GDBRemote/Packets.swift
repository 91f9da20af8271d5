/// The framing layer of the GDB remote serial protocol ("Overview" and "Packets" in the GDB
/// manual, appendix E): `$payload#cc` with a two-digit modulo-256 checksum, `+`/`-`
/// acknowledgements, `}` escapes (the next byte XOR 0x20) and a bare 0x03 for Ctrl-C.
public enum RemoteEvent: Equatable, Sendable {
    /// A complete packet whose checksum matched; `payload` is unescaped.
    case packet([UInt8])
    /// A packet whose checksum did not match: the peer must be sent `-` to resend it.
    case corrupt
    /// Ctrl-C from the debugger, outside any packet.
    case interrupt
    case ack
    case nack
}

/// Turns a byte stream from the debugger into events. Bytes between packets other than the
/// ones above (line noise) are skipped, as GDB's own stubs do.
public struct PacketDecoder: Sendable {
    enum State: Sendable { case idle, payload, escaped, checksum1, checksum2(UInt8) }
    var state = State.idle
    var payload: [UInt8] = []
    var sum: UInt8 = 0
    /// The longest payload accepted; longer ones are reported corrupt (and the bytes dropped).
    public var maximumPayload = 0x4000

    public init() {}

    public mutating func feed(_ byte: UInt8) -> RemoteEvent? {
        switch state {
        case .idle:
            switch byte {
            case UInt8(ascii: "$"): payload = []; sum = 0; state = .payload
            case 0x03: return .interrupt
            case UInt8(ascii: "+"): return .ack
            case UInt8(ascii: "-"): return .nack
            default: break
            }
        case .payload:
            switch byte {
            case UInt8(ascii: "#"): state = .checksum1
            case UInt8(ascii: "$"): payload = []; sum = 0         // a new packet restarts
            case UInt8(ascii: "}"): sum &+= byte; state = .escaped
            default: sum &+= byte; append(byte)
            }
        case .escaped:
            sum &+= byte
            append(byte ^ 0x20)
            state = .payload
        case .checksum1:
            guard let high = hexValue(byte) else { state = .idle; return .corrupt }
            state = .checksum2(high)
        case .checksum2(let high):
            state = .idle
            guard let low = hexValue(byte), high << 4 | low == sum, payload.count <= maximumPayload else { return .corrupt }
            return .packet(payload)
        }
        return nil
    }

    mutating func append(_ byte: UInt8) {
        if payload.count <= maximumPayload { payload.append(byte) }
    }
}

/// `$payload#cc`, escaping the bytes the protocol reserves (`$`, `#`, `}`, `*`).
public func framePacket(_ payload: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [UInt8(ascii: "$")]
    var sum: UInt8 = 0
    for byte in payload {
        if byte == UInt8(ascii: "$") || byte == UInt8(ascii: "#") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "*") {
            out.append(UInt8(ascii: "}")); out.append(byte ^ 0x20)
            sum &+= UInt8(ascii: "}") &+ (byte ^ 0x20)
        } else {
            out.append(byte)
            sum &+= byte
        }
    }
    out.append(UInt8(ascii: "#"))
    out += Array(hexString([sum]).utf8)
    return out
}

public func framePacket(_ payload: String) -> [UInt8] { framePacket(Array(payload.utf8)) }

func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

/// Lower-case hex, two digits per byte, as GDB sends and expects.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 15)]) }
    return String(decoding: out, as: UTF8.self)
}

/// Bytes from hex digits; nil if the count is odd or a digit is not hex.
public func bytes(fromHex text: Substring) -> [UInt8]? {
    let utf8 = Array(text.utf8)
    guard utf8.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count / 2)
    var index = 0
    while index < utf8.count {
        guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
        out.append(high << 4 | low)
        index += 2
    }
    return out
}
