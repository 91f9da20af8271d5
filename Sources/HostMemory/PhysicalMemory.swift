#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A readable stretch of host physical memory and where its bytes are.
public struct MemoryRange: @unchecked Sendable, Hashable {
    public var physicalStart: UInt64
    public var length: UInt64
    /// The bytes of the range; read-only, alive as long as the memory view that made it.
    public var bytes: UnsafeRawPointer

    public init(physicalStart: UInt64, length: UInt64, bytes: UnsafeRawPointer) {
        self.physicalStart = physicalStart
        self.length = length
        self.bytes = bytes
    }

    /// One past the last byte. Ranges from dumps end at or below `physicalAddressLimit`
    /// (the readers refuse others), so this and page arithmetic on it never overflow.
    public var physicalEnd: UInt64 { physicalStart + length }

    /// Where the whole `bytes`-long stretch at `address` starts inside this range, or nil
    /// when the range does not hold all of it. Safe for any address (no overflow).
    public func offset(of address: UInt64, bytes: UInt64 = 4096) -> Int? {
        guard address >= physicalStart else { return nil }
        let offset = address - physicalStart
        guard offset <= length, length - offset >= bytes else { return nil }
        return Int(offset)
    }
}

/// The widest physical address x86-64 defines (MAXPHYADDR is at most 52 bits): no host has
/// memory above it, so a dump range that ends past it is damage, not memory.
public let physicalAddressLimit: UInt64 = 1 << 52

extension Sequence where Element == UInt64 {
    /// The sum, or UInt64.max when it does not fit (counts taken from a file's fields).
    public func saturatingSum() -> UInt64 {
        reduce(0) { total, value in
            let (sum, overflow) = total.addingReportingOverflow(value)
            return overflow ? .max : sum
        }
    }
}

/// A view of host physical memory: readable ranges in ascending order, not overlapping,
/// with holes between them. Implementations keep their storage alive (and unchanged) for
/// their own lifetime; scanning reads it in place, without copying.
public protocol PhysicalMemory: Sendable {
    var ranges: [MemoryRange] { get }
    /// Called once bytes have been scanned: a file mapping can drop them from memory so
    /// that a scan's footprint does not grow with the dump.
    func release(_ bytes: UnsafeRawPointer, count: Int)
}

extension PhysicalMemory {
    public func release(_ bytes: UnsafeRawPointer, count: Int) {}
}

public struct MappingError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// A file mapped read-only into memory.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    public let bytes: UnsafeRawPointer?

    /// `populate` maps every page up front (MAP_POPULATE), so that later reads do not fault.
    public convenience init(path: String, populate: Bool = false) throws(MappingError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw MappingError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        try self.init(descriptor: fd, path: path, populate: populate)
    }

    /// Maps the open file `fd` (which stays the caller's to close); `path` names it in errors.
    public init(descriptor fd: Int32, path: String, populate: Bool = false) throws(MappingError) {
        self.path = path
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw MappingError(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw MappingError(path: path, reason: "not a regular file") }
        size = Int(info.st_size)
        guard size > 0 else {
            bytes = nil
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0)
        guard let address, address != MAP_FAILED else { throw MappingError(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))") }
        madvise(address, size, MADV_SEQUENTIAL)
        bytes = UnsafeRawPointer(address)
    }

    deinit {
        if let bytes { munmap(UnsafeMutableRawPointer(mutating: bytes), size) }
    }

    /// Drops the whole system pages inside `bytes ..< bytes + count` from this process's
    /// memory; reading them again reads the file again. (Only for this read-only file
    /// mapping: on anonymous memory MADV_DONTNEED would discard the data.)
    public func release(_ bytes: UnsafeRawPointer, count: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: bytes) + page - 1) / page * page
        let end = (Int(bitPattern: bytes) + count) / page * page
        guard end > start, let base = UnsafeMutableRawPointer(bitPattern: start) else { return }
        madvise(base, end - start, MADV_DONTNEED)
    }
}

/// A raw dump: file offset = physical address, one range from 0.
public struct RawDump: PhysicalMemory {
    public let file: MappedFile

    public init(path: String, populate: Bool = false) throws(MappingError) {
        file = try MappedFile(path: path, populate: populate)
    }

    public var ranges: [MemoryRange] {
        guard let bytes = file.bytes else { return [] }
        return [MemoryRange(physicalStart: 0, length: UInt64(file.size), bytes: bytes)]
    }

    public func release(_ bytes: UnsafeRawPointer, count: Int) { file.release(bytes, count: count) }
}

/// Memory held in an array (tests, generated pages).
public final class BufferMemory: PhysicalMemory, @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer
    public let ranges: [MemoryRange]

    /// Each piece is placed at its physical address.
    public init(_ pieces: [(physicalStart: UInt64, bytes: [UInt8])]) {
        let total = pieces.reduce(0) { $0 + $1.bytes.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 4096)
        self.storage = storage
        var offset = 0
        var ranges: [MemoryRange] = []
        for piece in pieces.sorted(by: { $0.physicalStart < $1.physicalStart }) where !piece.bytes.isEmpty {
            piece.bytes.withUnsafeBytes { storage.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            ranges.append(MemoryRange(physicalStart: piece.physicalStart, length: UInt64(piece.bytes.count),
                                      bytes: UnsafeRawPointer(storage.baseAddress!.advanced(by: offset))))
            offset += piece.bytes.count
        }
        self.ranges = ranges
    }

    deinit { storage.deallocate() }
}
