import AlertProtocol
import EricSoC
import MPUSim
import Sealing
import Testing

/// The checker's record tagger (RECORD_DATA, RECORD_TAG; docs/soc.md) and the listener's audit
/// of a record stream (docs/protocol.md, "Authenticated records").
@Suite struct RecordTaggerTests {
    static let key = try! DeviceKey(bytes: (0..<32).map { UInt8($0 * 13 & 0xff) })
    static let memory = BufferMemory([(physicalStart: 0, bytes: [UInt8](repeating: 0, count: 4096))])

    static func record(_ sequence: UInt32, value: UInt64 = 0x30) -> AlertRecord {
        AlertRecord(kind: .alert, sequence: sequence, automaton: 2, nameID: 0, value: value, page: 0x8000, mpuCycles: 4115, time: 99)
    }

    /// What the firmware does: the 56 bytes as 14 big-endian words, then six reads.
    static func tag(_ body: [UInt8], with checker: Checker) -> [UInt32] {
        for at in stride(from: 0, to: body.count, by: 4) {
            #expect(checker.write(0xc8, size: 4, value: body[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) }))
        }
        return (0..<6).map { _ in checker.read(0xcc, size: 4)! }
    }

    static func words(_ bytes: [UInt8]) -> [UInt32] {
        stride(from: 0, to: bytes.count, by: 4).map { at in bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
    }

    @Test func theTaggerGivesTheBootNonceAndTheTagOfWhatWasWritten() {
        let checker = Checker(host: Self.memory, key: Self.key, bootNonce: 0x1122_3344_5566_7788)
        var record = Self.record(7)
        record.authentication = .init(bootNonce: 0, tag: [])   // version 2 in the body
        let body = record.body
        let expected = Self.words(RecordAuthenticator(deviceKey: Self.key).tag(bootNonce: 0x1122_3344_5566_7788, body: body))
        #expect(Self.tag(body, with: checker) == [0x1122_3344, 0x5566_7788] + expected)
        // The next record starts afresh; the same bytes give the same tag.
        #expect(Self.tag(body, with: checker) == [0x1122_3344, 0x5566_7788] + expected)
        #expect(checker.read(0x04, size: 4)! & Checker.error == 0)
        // RECORD_DATA reads nothing back; a message past 2,048 bytes (a READ answer is 1,052) is
        // cut and flags ERROR.
        #expect(checker.write(0xc8, size: 4, value: 0xdead_beef) && checker.read(0xc8, size: 4) == 0)
        for _ in 0..<511 { _ = checker.write(0xc8, size: 4, value: 1) }   // 512 words in all
        #expect(checker.read(0x04, size: 4)! & Checker.error == 0)
        _ = checker.write(0xc8, size: 4, value: 1)
        #expect(checker.read(0x04, size: 4)! & Checker.error != 0)
    }

    @Test func aBoardWithoutAKeyTagsNothing() {
        let checker = Checker(host: Self.memory)
        #expect(Self.tag(Self.record(0).body, with: checker) == [0, 0, 0, 0, 0, 0])
        #expect(checker.read(0x04, size: 4)! & Checker.error != 0)
    }

    @Test func theAuditTellsLateFromReplayedAndBootsApart() {
        let authenticator = RecordAuthenticator(deviceKey: Self.key)
        var audit = RecordAudit { authenticator.verify(bootNonce: $0, body: $1, tag: $2) }
        func signed(_ sequence: UInt32, boot: UInt64 = 1) -> AlertRecord {
            var record = Self.record(sequence)
            record.authentication = .init(bootNonce: boot, tag: [])
            let tag = authenticator.tag(bootNonce: boot, body: record.body)
            record.authentication?.tag = tag
            return record
        }
        #expect(audit.admit(signed(0)) == .inOrder)
        #expect(audit.admit(signed(4)) == .inOrder)                       // 1-3 not (yet) here
        #expect(audit.admit(signed(2)) == .late(after: 4, reportedMissing: false))
        #expect(audit.missing().map { [UInt64($0.device), $0.bootNonce, UInt64($0.sequences.lowerBound), UInt64($0.sequences.upperBound)] } == [[0, 1, 1, 1], [0, 1, 3, 3]])
        #expect(audit.missing() == [])                                    // reported once
        #expect(audit.admit(signed(3)) == .late(after: 4, reportedMissing: true))
        #expect(audit.admit(signed(3)) == .replayed)
        #expect(audit.admit(signed(4)) == .replayed)
        // A new boot starts at 0 again: its own stream; the old boot's records are still replays.
        #expect(audit.admit(signed(0, boot: 2)) == .inOrder)
        #expect(audit.admit(signed(0)) == .replayed)
        // The tag covers the nonce: a record moved to another boot is forged.
        var moved = signed(5)
        moved.authentication?.bootNonce = 2
        #expect(audit.admit(moved) == .forged(reason: "its tag does not hold"))
        #expect(audit.missing() == [])
        // Neither boot ended with a summary; once the first one's does, only the second is open.
        #expect(audit.unfinished().map(\.last) == [4, 0])
        var summary = AlertRecord(kind: .summary, sequence: 5, automaton: 0xffff, nameID: 0xffff, value: 3, page: 1, mpuCycles: 9, time: 100)
        summary.authentication = .init(bootNonce: 1, tag: [])
        let tag = authenticator.tag(bootNonce: 1, body: summary.body)
        summary.authentication?.tag = tag
        #expect(audit.admit(summary) == .inOrder)
        #expect(audit.unfinished().map(\.bootNonce) == [2])
    }
}
