import AlertProtocol
import Integrity

/// The host's pages as a board reads them for a verifier (READ, 1 KiB at a time) and its
/// memory map (MAP): the `HostPages` a state is read from over the wire. Each page is read
/// once and kept; a page the board says is not in host memory is nil, as a dump's would be.
public final class BoardPages: HostPages {
    let source: EvidenceSource
    public let memoryMap: [[UInt64]]
    var cache: [UInt64: [UInt8]?] = [:]
    /// READ messages answered so far.
    public private(set) var reads = 0

    /// Asks the board for its memory map (at most 1,024 ranges: more is damage).
    public init(source: EvidenceSource) throws(BoardError) {
        self.source = source
        var map: [[UInt64]] = []
        var count = 1
        var index = 0
        while index < count {
            let reply = try source.answer(.map, argument: UInt32(index))
            count = Int(reply.reply.result)
            guard count <= 1024 else { throw BoardError("\(source.link.url): the board reports \(count) ranges of host memory (at most 1,024 expected)") }
            guard count > 0 else { break }
            let start = Self.bigEndian(reply.evidence[0..<8]), end = Self.bigEndian(reply.evidence[8..<16])
            guard end > start, start >= (map.last.map { $0[0] + $0[1] } ?? 0) else {
                throw BoardError("\(source.link.url): range \(index) of host memory is 0x\(String(start, radix: 16))-0x\(String(end, radix: 16)): empty or out of order")
            }
            map.append([start, end - start])
            index += 1
        }
        memoryMap = map
    }

    public func page(_ address: UInt64) throws -> [UInt8]? {
        guard address % 4096 == 0, address < 1 << 52 else { return nil }
        if let known = cache[address] { return known }
        var bytes: [UInt8]? = []
        for block in stride(from: address, to: address + 4096, by: ControlMessage.blockSize) {
            let reply = try source.answer(.read, data: Self.bigEndianBytes(block))
            reads += 1
            guard Self.bigEndian(reply.evidence[0..<8]) == block else {
                throw BoardError("\(source.link.url): READ of 0x\(String(block, radix: 16)) answered for another address")
            }
            switch reply.reply.result {
            case 0 where reply.evidence.count == 8 + ControlMessage.blockSize: bytes? += reply.evidence[8...]
            case 1: bytes = nil
            default: throw BoardError("\(source.link.url): READ of 0x\(String(block, radix: 16)) refused (result \(reply.reply.result))")
            }
            if bytes == nil { break }
        }
        cache[address] = bytes
        return bytes
    }

    static func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }
    static func bigEndianBytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) } }
}
