import CLZO
import CSnappy
import CZlib
import CZstd
import Dumps
import Foundation
import HostMemory
import Testing
import TestSupport

/// kdump-compressed files written here by the format's own rules (makedumpfile's diskdump
/// layout, QEMU's dump.c), page by page with zlib: what eric reads must be these pages at
/// these addresses, with the pages left out as holes. The lab's QEMU-made files are compared
/// with their raw twin in RealMemoryTests.
@Suite struct KdumpTests {
    /// Page frames 0-2 and 5 held (frame 1 stored as is, the rest zlib), 3-4 left out,
    /// 8 frames in all. Each page is filled with its frame number.
    /// `page` compressed by the real library of makedumpfile's flag: 1 zlib, 2 lzo, 4 snappy,
    /// 0x20 zstd.
    static func compressed(_ page: [UInt8], flags: UInt32) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 2 * page.count + 1024)
        var length = 0
        page.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                switch flags {
                case 1:
                    var n = uLongf(target.count)
                    _ = compress(target.baseAddress, &n, source.baseAddress, uLong(source.count))
                    length = Int(n)
                case 2:
                    var n = lzo_uint(target.count)
                    var work = [UInt8](repeating: 0, count: 16384 * 8)   // LZO1X_1_MEM_COMPRESS
                    _ = lzo1x_1_compress(source.baseAddress, lzo_uint(source.count), target.baseAddress, &n, &work)
                    length = Int(n)
                case 4:
                    var n = target.count
                    source.withMemoryRebound(to: CChar.self) { s in
                        target.withMemoryRebound(to: CChar.self) { _ = snappy_compress(s.baseAddress, s.count, $0.baseAddress, &n) }
                    }
                    length = n
                default:
                    length = ZSTD_compress(target.baseAddress, target.count, source.baseAddress, source.count, 3)
                }
            }
        }
        return Array(out.prefix(length))
    }

    /// `label`: the flags written in the descriptors, when they should lie about the data.
    static func kdump(version: UInt32 = 6, flags: UInt32 = 1, label: UInt32? = nil, cut: Int? = nil) -> [UInt8] {
        let block = 4096
        var file = [UInt8](repeating: 0, count: block * 4)      // header, sub-header, 2 bitmap blocks? one: both bitmaps
        func put(_ value: UInt64, _ at: Int, _ size: Int) { for k in 0..<size { file[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) } }
        file.replaceSubrange(0..<8, with: Array("KDUMP   ".utf8))
        put(UInt64(version), 8, 4)
        put(UInt64(block), 428, 4)
        put(1, 432, 4)              // sub-header: 1 block
        put(2, 436, 4)              // bitmaps: 2 blocks (one each)
        put(8, 440, 4)              // max_mapnr
        put(8, block + 96, 8)       // max_mapnr_64 (version 6)
        let held: [UInt64] = [0, 1, 2, 5]
        for frame in 0..<8 { file[2 * block + frame / 8] |= 1 << (frame % 8) }   // first bitmap: all present
        for frame in held { file[3 * block + Int(frame) / 8] |= 1 << (frame % 8) }
        let descriptors = file.count
        file += [UInt8](repeating: 0, count: 24 * held.count)
        for (index, frame) in held.enumerated() {
            let page = [UInt8](repeating: UInt8(frame + 1), count: block)
            var data = page
            var kind: UInt32 = 0
            if frame != 1 {
                data = Self.compressed(page, flags: flags)
                kind = label ?? flags
            }
            put(UInt64(file.count), descriptors + 24 * index, 8)
            put(UInt64(data.count), descriptors + 24 * index + 8, 4)
            put(UInt64(kind), descriptors + 24 * index + 12, 4)
            file += data
        }
        return cut.map { Array(file.prefix($0)) } ?? file
    }

    func open(_ bytes: [UInt8]) throws -> (MappedDump, URL) {
        let directory = try temporaryDirectory()
        let path = directory.appendingPathComponent("t.kdump")
        try Data(bytes).write(to: path)
        return (try MappedDump(path: path.path), directory)
    }

    @Test func pagesAtTheirAddressesAndHolesBetween() throws {
        let (dump, directory) = try open(Self.kdump())
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(dump.format == .kdump && dump.problems.isEmpty)
        #expect(dump.ranges.map { [$0.physicalStart, $0.length] } == [[0, 0x3000], [0x5000, 0x1000]])
        for (address, fill) in [(UInt64(0), UInt8(1)), (0x1000, 2), (0x2000, 3), (0x5000, 6)] {
            let range = try #require(dump.ranges.first { $0.offset(of: address) != nil })
            let page = UnsafeRawBufferPointer(start: range.bytes + range.offset(of: address)!, count: 4096)
            #expect(page.allSatisfy { $0 == fill }, "page 0x\(String(address, radix: 16))")
        }
    }

    /// Every compression makedumpfile writes, through its real library both ways.
    @Test(arguments: [UInt32(1), 2, 4, 0x20]) func everyCompression(flags: UInt32) throws {
        let (dump, directory) = try open(Self.kdump(flags: flags))
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(dump.problems.isEmpty, "\(dump.problems)")
        #expect(dump.ranges.map { [$0.physicalStart, $0.length] } == [[0, 0x3000], [0x5000, 0x1000]])
        let last = try #require(dump.ranges.last)
        #expect(UnsafeRawBufferPointer(start: last.bytes, count: 4096).allSatisfy { $0 == 6 })
    }

    /// The flattened form: the same file cut into (offset, size) records behind a 4 KiB header.
    @Test func flattenedReadsAsTheFileItFlattens() throws {
        let plain = Self.kdump()
        var flat = Array("makedumpfile".utf8) + [UInt8](repeating: 0, count: 4096 - 12)
        func big(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) } }
        for start in stride(from: 0, to: plain.count, by: 5000) {
            let piece = plain[start..<min(plain.count, start + 5000)]
            flat += big(UInt64(start)) + big(UInt64(piece.count)) + piece
        }
        flat += big(UInt64.max) + big(0)
        let (dump, directory) = try open(flat)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(dump.format == .kdump && dump.ranges.map { [$0.physicalStart, $0.length] } == [[0, 0x3000], [0x5000, 0x1000]])
        // Without its end record it is an error.
        let (_, other) = (0, try temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: other) }
        let path = other.appendingPathComponent("cut.kdump")
        try Data(flat.dropLast(16)).write(to: path)
        #expect(throws: DumpError.self) { try MappedDump(path: path.path) }
    }

    @Test func damageIsLocated() throws {
        // Cut inside the last page's data: that page is left out, with where and why.
        let whole = Self.kdump()
        let (cut, directory) = try open(Array(whole.prefix(whole.count - 10)))
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(cut.ranges.map { [$0.physicalStart, $0.length] } == [[0, 0x3000]])
        #expect(cut.problems.count == 1 && cut.problems[0].message.hasPrefix("page frame 5: its ") && cut.problems[0].skippedBytes == 4096, "\(cut.problems)")
        // zlib data labelled lzo: each such page left out, naming why.
        let (lying, other) = try open(Self.kdump(flags: 1, label: 2))
        defer { try? FileManager.default.removeItem(at: other) }
        #expect(lying.ranges.map { [$0.physicalStart, $0.length] } == [[0x1000, 0x1000]])
        #expect(lying.problems.count == 3 && lying.problems.allSatisfy { $0.message.contains(": its lzo data does not decompress to a page (lzo status ") })
        #expect(lying.problems.first?.message.hasPrefix("page frame 0: ") == true)
        // A header cut short is an error at its byte.
        let (_, third) = (0, try temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: third) }
        let path = third.appendingPathComponent("head.kdump")
        try Data(whole.prefix(300)).write(to: path)
        let error = try #require(throws: DumpError.self) { try MappedDump(path: path.path) }
        #expect(error.description == "\(path.path): error: at byte 428: the kdump header is cut short (the file has 300 bytes)")
    }
}
