import AlertProtocol
import Crypto
import Integrity

/// The host's pages as a board reads them for a verifier (READ, 1 KiB at a time) and its
/// memory map (MAP): the `HostPages` a state is read from over the wire. Each page is read
/// once and kept; a page the board says is not in host memory is nil, as a dump's would be.
/// A page the verifier already holds (the baseline's code) is asked for by its digest first
/// (DIGEST: the checker's SHA-256 of the page): when it matches, the held bytes are the page's,
/// and only a page that changed crosses the wire whole.
public final class BoardPages: HostPages {
    let source: EvidenceSource
    public let memoryMap: [[UInt64]]
    var cache: [UInt64: [UInt8]?] = [:]
    /// Pages the verifier holds, by physical address, with their SHA-256.
    let known: [UInt64: (bytes: [UInt8], digest: [UInt8])]
    /// READ messages answered so far; pages vouched for by their digest.
    public private(set) var reads = 0
    public private(set) var confirmed = 0

    /// Asks the board for its memory map (at most 1,024 ranges: more is damage). `known`:
    /// pages the verifier holds (physical address, 4 KiB of bytes).
    public init(source: EvidenceSource, known: [(physical: UInt64, bytes: [UInt8])] = []) throws(BoardError) {
        self.source = source
        var held: [UInt64: (bytes: [UInt8], digest: [UInt8])] = [:]
        for page in known where page.bytes.count == 4096 { held[page.physical] = (page.bytes, Array(SHA256.hash(data: page.bytes))) }
        self.known = held
        var map: [[UInt64]] = []
        var count = 1
        var index = 0
        while index < count {
            let reply = try source.answer(.map, argument: UInt32(index))
            count = Int(reply.reply.result)
            guard count <= 1024 else { throw BoardError("\(source.link.url): the board reports \(count) ranges of host memory (at most 1,024 expected)") }
            guard count > 0 else { break }
            let start = Self.number(reply.evidence[0..<8]), end = Self.number(reply.evidence[8..<16])
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
        if let held = known[address] {
            let reply = try source.answer(.digest, data: AlertProtocol.bigEndian(address, 8))
            guard Self.number(reply.evidence[0..<8]) == address else {
                throw BoardError("\(source.link.url): DIGEST of 0x\(String(address, radix: 16)) answered for another address")
            }
            if reply.reply.result == 0 && Array(reply.evidence[8...]) == held.digest {
                confirmed += 1
                cache[address] = held.bytes
                return held.bytes
            }
        }
        var bytes: [UInt8]? = []
        for block in stride(from: address, to: address + 4096, by: ControlMessage.blockSize) {
            let reply = try source.answer(.read, data: AlertProtocol.bigEndian(block, 8))
            reads += 1
            guard Self.number(reply.evidence[0..<8]) == block else {
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

    static func number(_ bytes: ArraySlice<UInt8>) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }
}
