import AlertProtocol
import Capture
import Sealing

/// What went wrong talking to a board.
public struct BoardError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A board's control channel (docs/protocol.md, "Control"), one message at a time: each sent
/// again on silence, up to `tries` times; answers to other messages (late ones) are skipped.
public final class BoardLink {
    public let url: String
    let socket: UDPSocket
    let timeout: Int32
    let tries: Int
    var sequence = UInt32.random(in: 1...0x7fff_ffff)
    /// Datagrams that were not an answer, each described (for the caller to report).
    public private(set) var ignored: [String] = []

    public init(url: String, timeout: Int32 = 2000, tries: Int = 3) throws(BoardError) {
        self.url = url
        self.timeout = timeout
        self.tries = tries
        do {
            let (host, port) = try UDPSocket.parse(url)
            socket = try UDPSocket(sendingTo: host, port: port)
        } catch { throw BoardError("\(url): \(error)") }
    }

    /// The payload of the answer to one message, when `accept` takes it (it sees every datagram
    /// that answers this message's sequence and type).
    /// `sign`: what to append to the request (its tag), from its bytes.
    public func exchange(_ kind: ControlMessage.Kind, argument: UInt32 = 0, data: [UInt8] = [],
                         sign: (([UInt8]) -> [UInt8])? = nil) throws(BoardError) -> [UInt8] {
        sequence &+= 1
        var message = ControlMessage.request(kind, sequence: sequence, argument: argument, data: data)
        if let sign { message += sign(message) }
        for _ in 0..<tries {
            guard socket.send(message) else { throw BoardError("\(url): cannot send") }
            while let (bytes, _) = socket.receive(waiting: timeout) {
                // The sequence and the type are at the same place in every answer.
                guard bytes.count >= ControlMessage.replySize, Array(bytes[0..<4]) == AlertRecord.magic else {
                    ignored.append("a datagram that is not an answer (\(bytes.count) bytes)")
                    continue
                }
                let answeredSequence = bytes[8..<12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                if answeredSequence == sequence && bytes[5] == kind.rawValue | 0x80 { return bytes }
            }
        }
        throw BoardError("\(url): no answer to \(kind) after \(tries) tries of \(timeout) ms (is `eric run --control` there?)")
    }

    /// The answer to a control message.
    public func control(_ kind: ControlMessage.Kind, argument: UInt32 = 0, data: [UInt8] = []) throws(BoardError) -> ControlReply {
        let bytes = try exchange(kind, argument: argument, data: data)
        do { return try ControlReply(payload: bytes) } catch { throw BoardError("\(url): the answer to \(kind): \(error)") }
    }
}

/// Evidence from a board: READ, MAP and DIGEST, asked with a tag and answered with one. Each
/// request carries a tag under the board's request key and the sweep's boot nonce (docs/
/// protocol.md, "Evidence for a verifier"): the board reads host memory for no one else. Each
/// answer must carry a tag that holds under the record key and the same nonce (so an answer
/// from another boot, or made by anyone without the key, is refused).
public struct EvidenceSource {
    public let link: BoardLink
    let answers: RecordAuthenticator
    let requests: RecordAuthenticator
    let bootNonce: UInt64

    public init(link: BoardLink, deviceKey: DeviceKey, bootNonce: UInt64) {
        self.link = link
        answers = RecordAuthenticator(deviceKey: deviceKey)
        requests = RecordAuthenticator.requests(deviceKey)
        self.bootNonce = bootNonce
    }

    public func answer(_ kind: ControlMessage.Kind, argument: UInt32 = 0, data: [UInt8] = []) throws(BoardError) -> EvidenceReply {
        let bytes = try link.exchange(kind, argument: argument, data: data) { [requests, bootNonce] request in
            requests.tag(bootNonce: bootNonce, body: request)
        }
        let reply: EvidenceReply
        do { reply = try EvidenceReply(payload: bytes) } catch { throw BoardError("\(link.url): the answer to \(kind): \(error)") }
        if reply.evidence.isEmpty {
            let why = reply.reply.result == ControlMessage.refused ? "the request's tag does not hold (is the key the board's? did it restart?)" : "result \(reply.reply.result)"
            throw BoardError("\(link.url): the board refused \(kind): \(why)")
        }
        guard let authentication = reply.authentication else {
            throw BoardError("\(link.url): FORGED answer to \(kind): not authenticated (version 1), from a board that has a key")
        }
        guard answers.verify(bootNonce: authentication.bootNonce, body: reply.signedBytes, tag: authentication.tag) else {
            throw BoardError("\(link.url): FORGED answer to \(kind): its tag does not hold under the key")
        }
        if authentication.bootNonce != bootNonce {
            throw BoardError("\(link.url): the answer to \(kind) is of boot \(hex16(authentication.bootNonce)), not of the sweep's (\(hex16(bootNonce))): the board restarted")
        }
        return reply
    }
}

func hex16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}
