import AlertProtocol
import Capture
import Foundation
import Sealing
import Testing
import Verifier

/// The verifier trusts the board's evidence only as far as its tag goes: an answer to READ or
/// MAP made without the key, unauthenticated, or of another boot is refused, never judged.
/// A stand-in board on loopback answers each request with what the test gives it.
@Suite struct EvidenceSourceTests {
    static let key = try! DeviceKey(bytes: [UInt8](repeating: 7, count: 32))
    static let otherKey = try! DeviceKey(bytes: [UInt8](repeating: 8, count: 32))
    static let nonce: UInt64 = 0x1122_3344_5566_7788

    /// The answer a board sends to READ of `block`: version 2 with a trailer under `key`, or
    /// version 1 without one.
    static func answer(to request: [UInt8], key: DeviceKey?, nonce: UInt64 = nonce) -> [UInt8] {
        let sequence = request[8..<12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        var body = ControlReply(kind: .read, sequence: sequence, result: 0, setVersion: 1).bytes
            + Array(request[16..<24]) + [UInt8](repeating: 0xcc, count: ControlMessage.blockSize)
        guard let key else { return body }
        body[4] = AlertRecord.authenticatedVersion
        let tag = RecordAuthenticator(deviceKey: key).tag(bootNonce: nonce, body: body)
        return body + (0..<8).map { UInt8(truncatingIfNeeded: nonce >> (56 - 8 * $0)) } + tag
    }

    /// READ of 0x1000 through a stand-in board that answers with `respond`.
    static func read(answering respond: @escaping @Sendable ([UInt8]) -> [UInt8]) throws -> Result<EvidenceReply, BoardError> {
        nonisolated(unsafe) let board = try UDPSocket(listeningOn: "127.0.0.1", port: 0)
        let port = board.port
        let thread = Thread {
            if let (request, peer) = board.receive(waiting: 5000) { board.send(respond(request), to: peer) }
        }
        thread.start()
        let source = EvidenceSource(link: try BoardLink(url: "udp://127.0.0.1:\(port)", timeout: 3000, tries: 1),
                                    deviceKey: key, bootNonce: nonce)
        do { return .success(try source.answer(.read, data: [0, 0, 0, 0, 0, 0, 0x10, 0])) } catch { return .failure(error) }
    }

    /// The request carries its tag under the request key for the sweep's boot (the board checks
    /// it); the answer's tag holds: taken.
    @Test func aGenuineAnswerIsTaken() throws {
        let reply = try Self.read { request in
            let signed = Array(request.prefix(24)), tag = Array(request.dropFirst(24))
            precondition(tag == RecordAuthenticator.requests(Self.key).tag(bootNonce: Self.nonce, body: signed), "the request is not signed")
            return Self.answer(to: request, key: Self.key)
        }.get()
        #expect(reply.reply.result == 0 && reply.evidence.count == 8 + 1024 && reply.evidence[6] == 0x10)
    }

    @Test func answersWithoutTheKeyOrOfAnotherBootAreRefused() throws {
        for (respond, expected) in [
            ({ @Sendable (request: [UInt8]) in Self.answer(to: request, key: Self.otherKey) }, "FORGED answer to read: its tag does not hold under the key"),
            ({ @Sendable (request: [UInt8]) in Self.answer(to: request, key: nil) }, "FORGED answer to read: not authenticated (version 1), from a board that has a key"),
            ({ @Sendable (request: [UInt8]) in Self.answer(to: request, key: Self.key, nonce: 1) }, "is of boot 0000000000000001, not of the sweep's (1122334455667788): the board restarted"),
            ({ @Sendable (request: [UInt8]) in ControlReply(kind: .read, sequence: request[8..<12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) },
                                                             result: ControlMessage.refused, setVersion: 1).bytes },
             "the board refused read: the request's tag does not hold"),
        ] {
            guard case .failure(let error) = try Self.read(answering: respond) else { Issue.record("accepted: \(expected)"); continue }
            #expect(error.description.contains(expected), "\(error)")
        }
    }
}
