import CLZO
import CSnappy
import CZlib
import CZstd
import Glibc
import HostMemory

/// kdump-compressed dumps: makedumpfile's "diskdump" format, which QEMU's dump-guest-memory
/// writes as `kdump-zlib` (`virsh dump --memory-only --format kdump-zlib`), and Linux's kdump
/// service through makedumpfile; and its flattened form (makedumpfile -F, or QEMU writing to a
/// pipe). The layout (docs/formats.md): a header block ("KDUMP   ", the block size, how many
/// blocks the sub-header and the bitmaps take), the sub-header (the highest page frame number
/// from version 6 on), two bitmaps of one bit per page frame (the second: the pages the dump
/// holds), then one 24-byte descriptor per page held (file offset, size, flags: 1 zlib, 2 lzo,
/// 4 snappy, 0x20 zstd, 0 as is) and the pages. Little-endian (x86). Every page is decompressed once, into an unlinked
/// file of its own (sparse: zero pages are not written), which is then mapped as a raw dump is;
/// pages the dump leaves out are holes.
enum Kdump {
    static let signature = Array("KDUMP   ".utf8)
    static let flattenedSignature = Array("makedumpfile".utf8)

    struct Expanded {
        var file: MappedFile
        var segments: [Segment]
        var problems: [DumpProblem]
    }

    static func isKdump(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.starts(with: signature) || bytes.starts(with: flattenedSignature)
    }

    /// The dump's pages in a file of their own, mapped, and where each range of them is.
    static func expand(_ bytes: UnsafeRawBufferPointer, path: String) throws(DumpError) -> Expanded {
        if bytes.starts(with: flattenedSignature) {
            let rebuilt = try unflatten(bytes, path: path)
            guard let base = rebuilt.bytes else { throw DumpError(path: path, offset: nil, message: "the flattened kdump holds no data") }
            return try expand(UnsafeRawBufferPointer(start: base, count: rebuilt.size), path: path)
        }
        let reader = Reader(bytes: bytes)
        func field(_ offset: Int, _ size: Int) throws(DumpError) -> UInt64 {
            guard let value = reader.little(offset, size) else {
                throw DumpError(path: path, offset: UInt64(offset), message: "the kdump header is cut short (the file has \(bytes.count) bytes)")
            }
            return value
        }
        let version = try field(8, 4)
        let blockSize = try field(428, 4)
        guard blockSize == 4096 else {
            throw DumpError(path: path, offset: 428, message: "block size \(blockSize): this eric reads kdump files of 4 KiB pages (x86)")
        }
        let subHeaderBlocks = try field(432, 4), bitmapBlocks = try field(436, 4)
        var frames = try field(440, 4)
        if version >= 6 { frames = try field(Int(blockSize) + 96, 8) }
        // A page frame number above 2^40 is a physical address above 2^52: past any x86-64.
        guard frames <= physicalAddressLimit / blockSize else {
            throw DumpError(path: path, offset: version >= 6 ? blockSize + 96 : 440, message: "\(frames) page frames: more than a 2^52-byte physical address space holds")
        }
        let bitmapStart = blockSize * (1 + subHeaderBlocks)
        let half = bitmapBlocks * blockSize / 2
        guard half * 8 >= frames else {
            throw DumpError(path: path, offset: 436, message: "bitmaps of \(bitmapBlocks) blocks cannot hold \(frames) page frames")
        }
        let dumped = bitmapStart + half                    // the second bitmap: pages held
        let descriptors = blockSize * (1 + subHeaderBlocks + bitmapBlocks)
        guard dumped + (frames + 7) / 8 <= UInt64(bytes.count) else {
            throw DumpError(path: path, offset: dumped, message: "the page bitmap runs past the end of the file (\(bytes.count) bytes)")
        }

        let output = try temporaryFile(path: path)
        defer { close(output) }
        var segments: [Segment] = []
        var problems: [DumpProblem] = []
        var page = [UInt8](repeating: 0, count: Int(blockSize))
        // Descriptors may share their data (makedumpfile shares the zero page): a small file
        // could expand without end. Real memory compresses far less than this.
        let (scaled, overflow) = UInt64(bytes.count).multipliedReportingOverflow(by: 1024)
        let writeLimit = (overflow ? .max : scaled).saturatingAdd(16 << 20)
        var written: UInt64 = 0
        var index: UInt64 = 0
        var frame: UInt64 = 0
        while frame < frames {
            let byte = bytes[Int(dumped + frame / 8)]
            if byte == 0 && frame % 8 == 0 { frame += 8; continue }   // eight frames left out at once
            defer { frame += 1 }
            guard byte >> (frame % 8) & 1 != 0 else { continue }
            let at = descriptors + index * 24
            index += 1
            guard let offset = reader.little(Int(clamping: at), 8), let size = reader.little(Int(clamping: at) + 8, 4),
                  let flags = reader.little(Int(clamping: at) + 12, 4) else {
                problems.append(DumpProblem(offset: at, message: "the descriptor of page frame \(frame) is past the end of the file", skippedBytes: blockSize))
                continue
            }
            guard offset <= UInt64(bytes.count), size <= UInt64(bytes.count) - offset else {
                problems.append(DumpProblem(offset: at, message: "page frame \(frame): its \(size) bytes at \(offset) are past the end of the file", skippedBytes: blockSize))
                continue
            }
            let data = UnsafeRawBufferPointer(rebasing: bytes[Int(offset)..<Int(offset + size)])
            if let problem = inflate(data, flags: flags, into: &page) {
                problems.append(DumpProblem(offset: flags == 0 || problem.hasPrefix("compressed") ? at + 12 : offset,
                                            message: "page frame \(frame): \(problem)", skippedBytes: blockSize))
                continue
            }
            let address = frame * blockSize
            if page.contains(where: { $0 != 0 }) {
                written += blockSize
                guard written <= writeLimit else {
                    throw DumpError(path: path, offset: at, message: "its pages expand to more than \(writeLimit) bytes (1,024 times the file): refused")
                }
                let count = page.withUnsafeBytes { pwrite(output, $0.baseAddress, Int(blockSize), off_t(address)) }
                guard count == Int(blockSize) else {
                    throw DumpError(path: path, offset: nil, message: "cannot write its pages out: \(String(cString: strerror(errno))) (TMPDIR: \(temporaryDirectory))")
                }
            }
            if let last = segments.last, last.physicalStart + last.length == address {
                segments[segments.count - 1].length += blockSize
            } else {
                segments.append(Segment(physicalStart: address, fileOffset: address, length: blockSize))
            }
        }
        // The expanded file reaches the last page held, so that every range maps whole.
        if let last = segments.last, ftruncate(output, off_t(last.physicalStart + last.length)) != 0 {
            throw DumpError(path: path, offset: nil, message: "cannot size its expanded pages: \(String(cString: strerror(errno)))")
        }
        let file: MappedFile
        do { file = try MappedFile(descriptor: output, path: path) } catch {
            throw DumpError(path: path, offset: nil, message: "cannot map its expanded pages: \(error.reason)")
        }
        return Expanded(file: file, segments: segments, problems: problems)
    }

    /// Page data as its descriptor's flags say it is stored (makedumpfile: 1 zlib, 2 lzo, 4
    /// snappy, 0x20 zstd, 0 as is), through the system's libraries, into `page`; nil when it
    /// gives exactly one page, else what went wrong.
    static func inflate(_ data: UnsafeRawBufferPointer, flags: UInt64, into page: inout [UInt8]) -> String? {
        let size = page.count
        return page.withUnsafeMutableBytes { out -> String? in
            let target = out.baseAddress!, source = data.baseAddress
            switch flags {
            case 0:
                guard data.count == size else { return "stored as is in \(data.count) bytes, not a page" }
                out.copyMemory(from: data)
                return nil
            case 1:
                var length = uLongf(size)
                let status = uncompress(target.assumingMemoryBound(to: Bytef.self), &length, source?.assumingMemoryBound(to: Bytef.self), uLong(data.count))
                return status == Z_OK && length == size ? nil : "its zlib data does not inflate to a page (zlib status \(status), \(length) bytes)"
            case 2:
                var length = lzo_uint(size)
                let status = lzo1x_decompress_safe(source?.assumingMemoryBound(to: UInt8.self), lzo_uint(data.count),
                                                   target.assumingMemoryBound(to: UInt8.self), &length, nil)
                return status == LZO_E_OK && length == size ? nil : "its lzo data does not decompress to a page (lzo status \(status), \(length) bytes)"
            case 4:
                var length = size
                let status = snappy_uncompress(source?.assumingMemoryBound(to: CChar.self), data.count, target.assumingMemoryBound(to: CChar.self), &length)
                return status == SNAPPY_OK && length == size ? nil : "its snappy data does not decompress to a page (snappy status \(status.rawValue), \(length) bytes)"
            case 0x20:
                let length = ZSTD_decompress(target, size, source, data.count)
                return ZSTD_isError(length) == 0 && length == size ? nil : "its zstd data does not decompress to a page (\(ZSTD_isError(length) != 0 ? String(cString: ZSTD_getErrorName(length)) : "\(length) bytes"))"
            default:
                return "compressed with flags 0x\(String(flags, radix: 16)), which makedumpfile does not write (1 zlib, 2 lzo, 4 snappy, 0x20 zstd)"
            }
        }
    }

    /// The flattened form put back together: after a 4 KiB header, records of a big-endian
    /// 64-bit offset and size and that many bytes, until an offset of -1.
    static func unflatten(_ bytes: UnsafeRawBufferPointer, path: String) throws(DumpError) -> MappedFile {
        let reader = Reader(bytes: bytes)
        let output = try temporaryFile(path: path)
        defer { close(output) }
        var at = 4096
        while true {
            guard let offset = reader.big(at, 8), let size = reader.big(at + 8, 8) else {
                throw DumpError(path: path, offset: UInt64(at), message: "the flattened kdump ends without its end record (offset -1)")
            }
            if offset == UInt64.max { break }
            guard offset < physicalAddressLimit, size <= UInt64(bytes.count - at - 16) else {
                throw DumpError(path: path, offset: UInt64(at), message: "a flattened record of \(size) bytes at offset \(Int64(bitPattern: offset)) does not fit (the file has \(bytes.count) bytes)")
            }
            guard pwrite(output, bytes.baseAddress! + at + 16, Int(size), off_t(offset)) == Int(size) else {
                throw DumpError(path: path, offset: nil, message: "cannot write the unflattened dump: \(String(cString: strerror(errno))) (TMPDIR: \(temporaryDirectory))")
            }
            at += 16 + Int(size)
        }
        do { return try MappedFile(descriptor: output, path: path) } catch {
            throw DumpError(path: path, offset: nil, message: "cannot map the unflattened dump: \(error.reason)")
        }
    }

    static var temporaryDirectory: String { getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp" }

    /// An empty file that disappears when closed.
    static func temporaryFile(path: String) throws(DumpError) -> Int32 {
        var template = Array((temporaryDirectory + "/eric-kdump-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw DumpError(path: path, offset: nil, message: "cannot make a file for its pages in \(temporaryDirectory): \(String(cString: strerror(errno)))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return fd
    }

    /// Reads inside `bytes` only.
    struct Reader {
        var bytes: UnsafeRawBufferPointer
        func little(_ offset: Int, _ size: Int) -> UInt64? {
            guard offset >= 0, offset <= bytes.count - size else { return nil }
            return (0..<size).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[offset + $1]) }
        }
        func big(_ offset: Int, _ size: Int) -> UInt64? {
            guard offset >= 0, offset <= bytes.count - size else { return nil }
            return (0..<size).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[offset + $1]) }
        }
    }
}

extension UInt64 {
    func saturatingAdd(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
