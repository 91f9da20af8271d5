import Foundation
import HostMemory

/// The memory-dump formats users bring (docs/formats.md).
public enum DumpFormat: String, Sendable {
    case raw = "raw"
    case lime = "LiME"
    case elfCore = "ELF core"
    case kdump = "kdump-compressed"
}

/// Part of a dump that could not be used; the rest is still scanned.
public struct DumpProblem: Sendable, Hashable, CustomStringConvertible {
    /// Byte offset in the file where the problem is.
    public var offset: UInt64
    public var message: String
    /// Bytes of memory content left out because of it.
    public var skippedBytes: UInt64

    public var description: String { "at byte \(offset): \(message)" }
}

/// A dump that cannot be used at all.
public struct DumpError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var offset: UInt64?
    public var message: String

    public var description: String {
        offset.map { "\(path): error: at byte \($0): \(message)" } ?? "\(path): error: \(message)"
    }
}

/// A dump file mapped into memory, seen as physical memory: its ranges at their real
/// physical addresses, holes between them.
public struct MappedDump: PhysicalMemory {
    public let file: MappedFile
    public let format: DumpFormat
    public let ranges: [MemoryRange]
    /// What could not be used (a partially readable dump is scanned as far as it is valid).
    public let problems: [DumpProblem]
    /// The bytes of the file the problems left out.
    public var unreadableBytes: UInt64 { problems.map(\.skippedBytes).saturatingSum() }
    /// The bytes of memory the dump holds.
    public var memoryBytes: UInt64 { ranges.map(\.length).saturatingSum() }

    public func release(_ bytes: UnsafeRawPointer, count: Int) { file.release(bytes, count: count) }

    /// Opens a dump, recognising its format from its content.
    public init(path: String, populate: Bool = false) throws(DumpError) {
        let file: MappedFile
        do {
            file = try MappedFile(path: path, populate: populate)
        } catch {
            throw DumpError(path: path, offset: nil, message: "cannot open dump: \(error.reason)")
        }
        guard let base = file.bytes else {
            self.file = file
            (format, ranges, problems) = (.raw, [], [])
            return
        }
        let bytes = UnsafeRawBufferPointer(start: base, count: file.size)
        if Kdump.isKdump(bytes) {
            // Its pages, decompressed once, in a file of their own that is read as a raw one.
            let expanded = try Kdump.expand(bytes, path: path)
            self.file = expanded.file
            format = .kdump
            problems = expanded.problems
            let pages = expanded.file.bytes
            ranges = pages.map { pages in
                expanded.segments.map { MemoryRange(physicalStart: $0.physicalStart, length: $0.length, bytes: pages + Int($0.fileOffset)) }
            } ?? []
            return
        }
        self.file = file
        let layout = try DumpLayout(reading: bytes, path: path)
        format = layout.format
        problems = layout.problems
        ranges = layout.segments.map {
            MemoryRange(physicalStart: $0.physicalStart, length: $0.length, bytes: base + Int($0.fileOffset))
        }
    }
}

/// Where a dump's memory is in its bytes: its format, each range's physical start, file
/// offset and length, and what could not be used. Reads only inside `bytes`.
public struct DumpLayout: Sendable {
    public var format: DumpFormat
    public var segments: [Segment]
    public var problems: [DumpProblem] = []

    init(format: DumpFormat, segments: [Segment], problems: [DumpProblem] = []) {
        self.format = format
        self.segments = segments
        self.problems = problems
    }

    /// The layout of a dump's bytes (`path` names it in errors), recognising its format from
    /// its content.
    public init(reading bytes: UnsafeRawBufferPointer, path: String) throws(DumpError) {
        for signature in ["KDUMP   ", "makedumpfile"] where bytes.starts(with: signature.utf8) {
            throw DumpError(path: path, offset: 0, message: "a kdump-compressed dump: its pages are decompressed into a file of their own (MappedDump), not read in place")
        }
        if bytes.starts(with: "DISKDUMP".utf8) {
            throw DumpError(path: path, offset: 0, message: "a diskdump (\"DISKDUMP\" signature, the old diskdump driver's format) is not supported: write an ELF dump instead (makedumpfile -E) or a kdump-compressed one")
        }
        do throws(DumpLayoutError) {
            switch DumpReader.detect(bytes) {
            case .raw: self = DumpLayout(format: .raw, segments: bytes.isEmpty ? [] : [Segment(physicalStart: 0, fileOffset: 0, length: UInt64(bytes.count))])
            case .lime: self = try DumpReader.lime(bytes)
            case .elfCore: self = try DumpReader.elf(bytes)
            case .kdump: throw DumpLayoutError(offset: 0, message: "a kdump-compressed dump is decompressed, not read in place")
            }
        } catch {
            throw DumpError(path: path, offset: error.offset, message: error.message)
        }
    }
}

/// A range of memory in a dump file.
public struct Segment: Hashable, Sendable {
    public var physicalStart: UInt64
    public var fileOffset: UInt64
    public var length: UInt64
}

struct DumpLayoutError: Error {
    var offset: UInt64?
    var message: String
}

/// Little- or big-endian field reads that never run past the buffer.
struct FieldReader {
    let bytes: UnsafeRawBufferPointer
    var bigEndian = false

    func has(_ offset: UInt64, _ count: UInt64) -> Bool {
        offset <= UInt64(bytes.count) && count <= UInt64(bytes.count) - offset
    }

    func u(_ offset: UInt64, _ size: Int) -> UInt64 {
        var value: UInt64 = 0
        for k in 0..<size {
            let byte = UInt64(bytes[Int(offset) + (bigEndian ? k : size - 1 - k)])
            value = value << 8 | byte
        }
        return value
    }
}

enum DumpReader {
    static let limeMagic: UInt32 = 0x4C69_4D45

    static func detect(_ bytes: UnsafeRawBufferPointer) -> DumpFormat {
        let reader = FieldReader(bytes: bytes)
        if reader.has(0, 4), UInt32(reader.u(0, 4)) == limeMagic { return .lime }
        if reader.has(0, 4), bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 { return .elfCore }
        return .raw
    }

    /// Appends `segment` unless it overlaps or precedes the last one (which a scan in
    /// ascending order needs); reports what it leaves out.
    static func append(_ segment: Segment, at offset: UInt64, what: String, to layout: inout DumpLayout) {
        if let last = layout.segments.last, segment.physicalStart < last.physicalStart + last.length {
            layout.problems.append(DumpProblem(
                offset: offset,
                message: "\(what) [0x\(String(segment.physicalStart, radix: 16)), 0x\(String(segment.physicalStart + segment.length, radix: 16))) overlaps the range before it, which ends at 0x\(String(last.physicalStart + last.length, radix: 16)); skipped",
                skippedBytes: segment.length))
            return
        }
        layout.segments.append(segment)
    }

    /// LiME: [32-byte header, data]...; header: u32 magic, u32 version 1, u64 start, u64 end
    /// (inclusive), 8 reserved bytes; little-endian.
    static func lime(_ bytes: UnsafeRawBufferPointer) throws(DumpLayoutError) -> DumpLayout {
        let reader = FieldReader(bytes: bytes)
        var layout = DumpLayout(format: .lime, segments: [])
        var offset: UInt64 = 0
        let size = UInt64(bytes.count)
        while offset < size {
            func stop(_ message: String, at where_: UInt64) throws(DumpLayoutError) {
                if layout.segments.isEmpty && layout.problems.isEmpty { throw DumpLayoutError(offset: where_, message: message) }
                layout.problems.append(DumpProblem(offset: where_, message: message + "; the rest of the file is not scanned", skippedBytes: size - offset))
            }
            guard reader.has(offset, 32) else {
                try stop("truncated LiME header: \(size - offset) of 32 bytes", at: offset)
                break
            }
            guard UInt32(reader.u(offset, 4)) == limeMagic else {
                let found = (0..<4).map { String(format2(bytes[Int(offset) + $0])) }.joined(separator: " ")
                try stop("bad LiME magic: expected 45 4d 69 4c, found \(found)", at: offset)
                break
            }
            let version = reader.u(offset + 4, 4)
            guard version == 1 else {
                try stop("unsupported LiME version \(version) (expected 1)", at: offset + 4)
                break
            }
            let start = reader.u(offset + 8, 8), end = reader.u(offset + 16, 8)
            guard end >= start, end - start < UInt64.max else {
                try stop("LiME range end 0x\(String(end, radix: 16)) is before its start 0x\(String(start, radix: 16))", at: offset + 16)
                break
            }
            let length = end - start + 1
            let data = offset + 32
            let present = min(length, size - data)
            guard end < physicalAddressLimit else {
                layout.problems.append(DumpProblem(
                    offset: offset + 16,
                    message: "LiME range [0x\(String(start, radix: 16)), 0x\(String(end, radix: 16))] ends above 2^52, the widest physical address of x86-64; skipped",
                    skippedBytes: present))
                if present < length { break }
                offset = data + length
                continue
            }
            if present < length {
                layout.problems.append(DumpProblem(
                    offset: offset,
                    message: "LiME range [0x\(String(start, radix: 16)), 0x\(String(end, radix: 16))] runs past the end of the file: \(present) of \(length) bytes present; the rest is not scanned",
                    skippedBytes: length - present))
            }
            if present > 0 {
                append(Segment(physicalStart: start, fileOffset: data, length: present), at: offset, what: "LiME range", to: &layout)
            }
            if present < length { break }
            offset = data + length
        }
        return layout
    }

    /// ELF core files as QEMU's dump-guest-memory and /proc/vmcore write them: memory in
    /// PT_LOAD segments, by physical address (p_paddr). ELF32 and ELF64, either byte order;
    /// e_phnum = PN_XNUM (0xffff) takes the count from section header 0's sh_info.
    static func elf(_ bytes: UnsafeRawBufferPointer) throws(DumpLayoutError) -> DumpLayout {
        var reader = FieldReader(bytes: bytes)
        let size = UInt64(bytes.count)
        guard reader.has(0, 52) else { throw DumpLayoutError(offset: 0, message: "truncated ELF header (\(size) bytes)") }
        let elfClass = bytes[4], data = bytes[5]
        guard elfClass == 1 || elfClass == 2 else { throw DumpLayoutError(offset: 4, message: "bad ELF class \(elfClass) (expected 1 or 2)") }
        guard data == 1 || data == 2 else { throw DumpLayoutError(offset: 5, message: "bad ELF byte order \(data) (expected 1 or 2)") }
        reader.bigEndian = data == 2
        let wide = elfClass == 2
        guard reader.has(0, wide ? 64 : 52) else { throw DumpLayoutError(offset: 0, message: "truncated ELF header (\(size) bytes)") }
        let type = reader.u(16, 2)
        guard type == 4 else { throw DumpLayoutError(offset: 16, message: "ELF file of type \(type) is not a core dump (ET_CORE, 4)") }
        let phoff = wide ? reader.u(32, 8) : reader.u(28, 4)
        let shoff = wide ? reader.u(40, 8) : reader.u(32, 4)
        let phentsize = reader.u(wide ? 54 : 42, 2)
        var phnum = reader.u(wide ? 56 : 44, 2)
        let shentsize = reader.u(wide ? 58 : 46, 2)
        let expected: UInt64 = wide ? 56 : 32
        guard phentsize == expected else {
            throw DumpLayoutError(offset: wide ? 54 : 42, message: "program header size \(phentsize) (expected \(expected))")
        }
        if phnum == 0xffff {
            // PN_XNUM: the real count is in the first section header's sh_info.
            // e_shoff is the file's word: near 2^64, the field's offset would wrap.
            let (infoOffset, wraps) = shoff.addingReportingOverflow(wide ? 44 : 28)
            guard shoff != 0, !wraps, shentsize >= (wide ? 64 : 40), reader.has(infoOffset, 4) else {
                throw DumpLayoutError(offset: wide ? 40 : 32, message: "e_phnum is PN_XNUM but section header 0 at byte \(shoff) is missing")
            }
            phnum = reader.u(infoOffset, 4)
        }
        guard phoff <= size, phnum <= (size - phoff) / phentsize else {
            throw DumpLayoutError(offset: wide ? 32 : 28, message: "program header table (\(phnum) entries at byte \(phoff)) runs past the end of the file")
        }
        var segments: [(Segment, UInt64)] = []
        var layout = DumpLayout(format: .elfCore, segments: [])
        for index in 0..<phnum {
            let entry = phoff + index * phentsize
            guard reader.u(entry, 4) == 1 else { continue } // PT_LOAD only
            let offset = wide ? reader.u(entry + 8, 8) : reader.u(entry + 4, 4)
            let paddr = wide ? reader.u(entry + 24, 8) : reader.u(entry + 12, 4)
            let filesz = wide ? reader.u(entry + 32, 8) : reader.u(entry + 16, 4)
            let memsz = wide ? reader.u(entry + 40, 8) : reader.u(entry + 20, 4)
            guard filesz > 0 else { continue }
            // Bytes of the segment the file holds: what a problem leaves unscanned.
            let present = offset >= size ? 0 : min(filesz, size - offset)
            guard filesz == memsz else {
                layout.problems.append(DumpProblem(
                    offset: entry, message: "PT_LOAD \(index) has p_filesz \(filesz) != p_memsz \(memsz); skipped", skippedBytes: present))
                continue
            }
            guard paddr < physicalAddressLimit, filesz <= physicalAddressLimit - paddr else {
                layout.problems.append(DumpProblem(
                    offset: entry,
                    message: "PT_LOAD \(index) [0x\(String(paddr, radix: 16)), +0x\(String(filesz, radix: 16))) ends above 2^52, the widest physical address of x86-64; skipped",
                    skippedBytes: present))
                continue
            }
            if present < filesz {
                layout.problems.append(DumpProblem(
                    offset: entry,
                    message: "PT_LOAD \(index) [0x\(String(paddr, radix: 16)), +0x\(String(filesz, radix: 16))) at byte \(offset) runs past the end of the file: \(present) of \(filesz) bytes present",
                    skippedBytes: filesz - present))
            }
            if present > 0 { segments.append((Segment(physicalStart: paddr, fileOffset: offset, length: present), entry)) }
        }
        for (segment, entry) in segments.sorted(by: { $0.0.physicalStart < $1.0.physicalStart }) {
            append(segment, at: entry, what: "PT_LOAD", to: &layout)
        }
        return layout
    }
}

func format2(_ byte: UInt8) -> String {
    let text = String(byte, radix: 16)
    return text.count == 1 ? "0" + text : text
}
