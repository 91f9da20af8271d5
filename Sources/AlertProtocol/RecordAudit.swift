/// Follows a board's authenticated records as they arrive (docs/protocol.md, "Authenticated
/// records") and says of each whether it is genuine and new: forged records (a bad tag, or no
/// tag at all), replays (a sequence number of that boot already received), records that arrive
/// after later ones, and, when asked, the sequence numbers that never arrived.
///
/// The tag check is given as a function, so that this module needs no cryptography; a record
/// is only counted once its tag holds, so nothing forged can move the bookkeeping.
public struct RecordAudit {
    public typealias TagCheck = (_ bootNonce: UInt64, _ body: [UInt8], _ tag: [UInt8]) -> Bool

    public enum Verdict: Equatable, Sendable {
        /// Genuine, and the next of its boot (or later: the numbers skipped are gaps).
        case inOrder
        /// Genuine, filling a gap: it arrived after record `after`. `reportedMissing`: its gap
        /// was already reported by `missing()`.
        case late(after: UInt32, reportedMissing: Bool)
        /// Genuine, but that boot's record of this number was already received.
        case replayed
        /// Not from the board: the tag does not hold, or the record has none.
        case forged(reason: String)
    }

    /// Sequence numbers of one boot of one board that never arrived (so far).
    public struct Missing: Equatable, Sendable {
        public var device: UInt16
        public var bootNonce: UInt64
        public var sequences: ClosedRange<UInt32>
    }

    struct Boot: Hashable {
        var device: UInt16
        var nonce: UInt64
    }

    struct Gap {
        var sequences: ClosedRange<UInt32>
        var reported: Bool
    }

    struct Stream {
        /// One past the highest sequence number received.
        var next: UInt64 = 0
        /// Numbers below `next` not received, in order.
        var gaps: [Gap] = []
        /// Whether the highest-numbered record received is a summary: the sweep it ends is whole.
        var endsWithSummary = false
    }

    let check: TagCheck
    var streams: [Boot: Stream] = [:]
    /// Boots in the order first seen, so that reports come out in a stable order.
    var order: [Boot] = []

    public init(check: @escaping TagCheck) {
        self.check = check
    }

    public mutating func admit(_ record: AlertRecord) -> Verdict {
        guard let authentication = record.authentication else {
            return .forged(reason: "not authenticated (a version-\(AlertRecord.version) record)")
        }
        guard check(authentication.bootNonce, record.body, authentication.tag) else {
            return .forged(reason: "its tag does not hold")
        }
        let boot = Boot(device: record.deviceID, nonce: authentication.bootNonce)
        if streams[boot] == nil { order.append(boot) }
        var stream = streams[boot, default: Stream()]
        defer { streams[boot] = stream }
        let sequence = UInt64(record.sequence)
        if sequence >= stream.next {
            if sequence > stream.next {
                stream.gaps.append(Gap(sequences: UInt32(stream.next)...UInt32(sequence - 1), reported: false))
            }
            stream.next = sequence + 1
            stream.endsWithSummary = record.kind == .summary
            return .inOrder
        }
        // The gaps are in order: the last one starting at or below the number is the only candidate.
        var low = 0, high = stream.gaps.count
        while low < high {
            let middle = (low + high) / 2
            if stream.gaps[middle].sequences.lowerBound <= record.sequence { low = middle + 1 } else { high = middle }
        }
        let index = low - 1
        guard index >= 0, stream.gaps[index].sequences.contains(record.sequence) else { return .replayed }
        let gap = stream.gaps[index]
        var pieces: [Gap] = []
        if gap.sequences.lowerBound < record.sequence { pieces.append(Gap(sequences: gap.sequences.lowerBound...(record.sequence - 1), reported: gap.reported)) }
        if record.sequence < gap.sequences.upperBound { pieces.append(Gap(sequences: (record.sequence + 1)...gap.sequences.upperBound, reported: gap.reported)) }
        stream.gaps.replaceSubrange(index...index, with: pieces)
        return .late(after: UInt32(stream.next - 1), reportedMissing: gap.reported)
    }

    /// The boots whose last record received is not a summary, with that record's number: their
    /// last sweep's end (and whatever came before it after that record) never arrived. For the
    /// end of a capture; a live stream may still be under way.
    public func unfinished() -> [(device: UInt16, bootNonce: UInt64, last: UInt32)] {
        order.compactMap { boot in
            guard let stream = streams[boot], !stream.endsWithSummary else { return nil }
            return (boot.device, boot.nonce, UInt32(stream.next - 1))
        }
    }

    /// The gaps not reported before (each is reported once; a record that fills one later is
    /// `late(reportedMissing: true)`).
    public mutating func missing() -> [Missing] {
        var out: [Missing] = []
        for boot in order {
            guard var stream = streams[boot] else { continue }
            for index in stream.gaps.indices where !stream.gaps[index].reported {
                stream.gaps[index].reported = true
                out.append(Missing(device: boot.device, bootNonce: boot.nonce, sequences: stream.gaps[index].sequences))
            }
            streams[boot] = stream
        }
        return out
    }
}
