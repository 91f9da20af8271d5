/// Writes memory (pieces at physical addresses) in the dump formats the readers accept: for
/// fixtures and tests, and the same layouts as LiME and QEMU's dump-guest-memory produce.
public enum DumpWriter {
    public typealias Piece = (physicalStart: UInt64, bytes: [UInt8])

    /// Raw: file offset = physical address; holes are zero-filled.
    public static func raw(_ pieces: [Piece]) -> [UInt8] {
        let end = pieces.map { Int($0.physicalStart) + $0.bytes.count }.max() ?? 0
        var out = [UInt8](repeating: 0, count: end)
        for piece in pieces { out.replaceSubrange(Int(piece.physicalStart)..<(Int(piece.physicalStart) + piece.bytes.count), with: piece.bytes) }
        return out
    }

    /// LiME: a 32-byte header (magic, version 1, start, inclusive end, reserved) before each range.
    public static func lime(_ pieces: [Piece]) -> [UInt8] {
        var out: [UInt8] = []
        for piece in pieces.sorted(by: { $0.physicalStart < $1.physicalStart }) where !piece.bytes.isEmpty {
            out += limeHeader(start: piece.physicalStart, length: UInt64(piece.bytes.count)) + piece.bytes
        }
        return out
    }

    public static func limeHeader(start: UInt64, length: UInt64) -> [UInt8] {
        le(UInt64(DumpReader.limeMagic), 4) + le(1, 4) + le(start, 8) + le(start + length - 1, 8) + [UInt8](repeating: 0, count: 8)
    }

    /// An ELF64 (or ELF32) little-endian core file: one PT_NOTE, then a PT_LOAD per range with
    /// p_paddr = its physical address, as QEMU's dump-guest-memory writes. `extendedNumbering`
    /// stores the count as PN_XNUM with the real number in section header 0's sh_info.
    public static func elfCore(_ pieces: [Piece], wide: Bool = true, extendedNumbering: Bool = false) -> [UInt8] {
        let pieces = pieces.filter { !$0.bytes.isEmpty }
        let (prefix, _) = elfCoreHeaders(ranges: pieces.map { ($0.physicalStart, UInt64($0.bytes.count)) }, wide: wide, extendedNumbering: extendedNumbering)
        return prefix + pieces.flatMap(\.bytes)
    }

    /// Everything of an ELF core file before the memory: headers, the note, and padding to the
    /// first page boundary; the ranges' bytes follow one after another. Returns the prefix and
    /// each range's file offset.
    public static func elfCoreHeaders(ranges: [(physicalStart: UInt64, length: UInt64)], wide: Bool = true,
                                      extendedNumbering: Bool = false) -> (prefix: [UInt8], offsets: [UInt64]) {
        let ehsize = wide ? 64 : 52, phentsize = wide ? 56 : 32, shentsize = wide ? 64 : 40
        let note: [UInt8] = le(4, 4) + le(0, 4) + le(1, 4) + Array("CORE\0\0\0\0".utf8) // an empty NT_PRSTATUS-style note
        let phnum = ranges.count + 1
        let phoff = ehsize
        let shoff = extendedNumbering ? phoff + phnum * phentsize : 0
        let noteOffset = phoff + phnum * phentsize + (extendedNumbering ? shentsize : 0)
        let dataOffset = (noteOffset + note.count + 4095) / 4096 * 4096

        var out: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, wide ? 2 : 1, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        out += le(4, 2) + le(wide ? 62 : 3, 2) + le(1, 4)                   // ET_CORE, EM_X86_64 or EM_386
        out += wide ? le(0, 8) + le(UInt64(phoff), 8) + le(UInt64(shoff), 8) : le(0, 4) + le(UInt64(phoff), 4) + le(UInt64(shoff), 4)
        out += le(0, 4) + le(UInt64(ehsize), 2) + le(UInt64(phentsize), 2)
        out += le(extendedNumbering ? 0xffff : UInt64(phnum), 2) + le(UInt64(shentsize), 2)
        out += le(extendedNumbering ? 1 : 0, 2) + le(0, 2)

        func programHeader(type: UInt64, offset: UInt64, paddr: UInt64, size: UInt64) -> [UInt8] {
            wide
                ? le(type, 4) + le(type == 1 ? 7 : 0, 4) + le(offset, 8) + le(paddr, 8) + le(paddr, 8)
                    + le(size, 8) + le(size, 8) + le(type == 1 ? 4096 : 0, 8)
                : le(type, 4) + le(offset, 4) + le(paddr, 4) + le(paddr, 4) + le(size, 4)
                    + le(size, 4) + le(type == 1 ? 7 : 0, 4) + le(type == 1 ? 4096 : 0, 4)
        }
        out += programHeader(type: 4, offset: UInt64(noteOffset), paddr: 0, size: UInt64(note.count))
        var offsets: [UInt64] = []
        var next = UInt64(dataOffset)
        for range in ranges {
            offsets.append(next)
            out += programHeader(type: 1, offset: next, paddr: range.physicalStart, size: range.length)
            next += range.length
        }
        if extendedNumbering {
            // Section header 0: everything zero but sh_info = the program header count.
            var section = [UInt8](repeating: 0, count: shentsize)
            section.replaceSubrange((wide ? 44 : 28)..<(wide ? 48 : 32), with: le(UInt64(phnum), 4))
            out += section
        }
        out += note
        out += [UInt8](repeating: 0, count: dataOffset - out.count)
        return (out, offsets)
    }

    static func le(_ value: UInt64, _ size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
    }
}
