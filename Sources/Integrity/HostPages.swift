import Correlation
import HostMemory

/// Where a state's pages come from: a dump in hand, or a board that reads them for a verifier
/// over the wire (docs/integrity.md, "From the wire"). The state is read the same way from
/// both, so the verdicts of the same moment agree.
public protocol HostPages {
    /// The host's physical memory map: start and length of each range, ascending.
    var memoryMap: [[UInt64]] { get }
    /// The 4 KiB page at `address` (page-aligned), or nil where the host has no whole page.
    /// Throws when the page cannot be had (a board that stopped answering): a state is never
    /// made from part of what it should hold.
    func page(_ address: UInt64) throws -> [UInt8]?
}

/// The pages of a dump.
public struct DumpPages: HostPages {
    public let memory: any PhysicalMemory

    public init(_ memory: any PhysicalMemory) { self.memory = memory }

    public var memoryMap: [[UInt64]] { memory.ranges.map { [$0.physicalStart, $0.length] } }

    public func page(_ address: UInt64) -> [UInt8]? {
        guard address % 4096 == 0, let bytes = pageBytes(address, in: memory) else { return nil }
        return Array(UnsafeRawBufferPointer(start: bytes, count: 4096))
    }
}

extension HostPages {
    /// The 8 bytes at physical `address`, when the host has them.
    func quadword(at address: UInt64) throws -> UInt64? {
        guard address % 8 == 0, let page = try page(address & ~0xfff) else { return nil }
        let at = Int(address & 0xfff)
        return page[at..<at + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
