/// Writing a 32-bit big-endian ELF executable: one PT_LOAD per allocated section, section
/// headers and a symbol table, so that readelf, objdump, gdb and loaders read it.
public struct ELF32Image: Sendable {
    public struct Section: Sendable {
        public enum Kind: Sendable { case code, data, zeroed }
        public var name: String
        public var kind: Kind
        public var address: UInt32
        /// The contents (for `.zeroed`, only the count matters: NOBITS).
        public var bytes: [UInt8]
        public var size: UInt32
        public var alignment: UInt32

        public init(name: String, kind: Kind, address: UInt32, bytes: [UInt8], size: UInt32? = nil, alignment: UInt32 = 4) {
            self.name = name
            self.kind = kind
            self.address = address
            self.bytes = kind == .zeroed ? [] : bytes
            self.size = size ?? UInt32(bytes.count)
            self.alignment = alignment
        }
    }

    public struct Symbol: Sendable {
        public var name: String
        public var value: UInt32
        /// Index into `sections`, or nil for an absolute value.
        public var section: Int?
        public var isGlobal: Bool

        public init(name: String, value: UInt32, section: Int?, isGlobal: Bool) {
            self.name = name
            self.value = value
            self.section = section
            self.isGlobal = isGlobal
        }
    }

    public var machine: UInt16
    public var entry: UInt32
    public var sections: [Section]
    public var symbols: [Symbol]

    public init(machine: UInt16 = ELF32File.machineLatticeMico32, entry: UInt32, sections: [Section], symbols: [Symbol]) {
        self.machine = machine
        self.entry = entry
        self.sections = sections
        self.symbols = symbols
    }

    public func bytes() -> [UInt8] {
        var out = ByteWriter()
        let loaded = sections.filter { $0.size > 0 }
        let headerSize = 52, programHeaders = loaded.count

        // Contents, each at a file offset congruent to its address modulo 4 (both aligned).
        var offsets: [Int] = []
        var cursor = headerSize + 32 * programHeaders
        for section in sections {
            cursor = (cursor + 15) & ~15
            offsets.append(cursor)
            if section.kind != .zeroed { cursor += section.bytes.count }
        }
        // Strings and symbols (locals first, as the ABI requires).
        var names = StringTable()
        let ordered = symbols.filter { !$0.isGlobal } + symbols.filter(\.isGlobal)
        var symbolTable = ByteWriter()
        symbolTable.zeros(16)
        for symbol in ordered {
            symbolTable.u32(names.add(symbol.name))
            symbolTable.u32(symbol.value)
            symbolTable.u32(0)
            symbolTable.u8((symbol.isGlobal ? 1 : 0) << 4)           // STB_LOCAL/GLOBAL, STT_NOTYPE
            symbolTable.u8(0)
            symbolTable.u16(symbol.section.map { UInt16($0 + 1) } ?? 0xfff1)   // section index or SHN_ABS
        }
        var sectionNames = StringTable()
        let symtabOffset = (cursor + 3) & ~3
        let strtabOffset = symtabOffset + symbolTable.bytes.count
        let shstrtabOffset = strtabOffset + names.bytes.count
        let sectionNameOffsets = sections.map { sectionNames.add($0.name) }
        let symtabName = sectionNames.add(".symtab"), strtabName = sectionNames.add(".strtab"), shstrtabName = sectionNames.add(".shstrtab")
        let sectionHeadersOffset = (shstrtabOffset + sectionNames.bytes.count + 3) & ~3
        let sectionCount = sections.count + 4

        // ELF header.
        out.append([0x7f, 0x45, 0x4c, 0x46, 1, 2, 1, 0]); out.zeros(8)
        out.u16(2); out.u16(machine); out.u32(1)                     // ET_EXEC, machine, EV_CURRENT
        out.u32(entry); out.u32(UInt32(programHeaders > 0 ? headerSize : 0)); out.u32(UInt32(sectionHeadersOffset))
        out.u32(0); out.u16(52); out.u16(32); out.u16(UInt16(programHeaders))
        out.u16(40); out.u16(UInt16(sectionCount)); out.u16(UInt16(sectionCount - 1))
        // Program headers.
        for (index, section) in sections.enumerated() where section.size > 0 {
            out.u32(1)                                                 // PT_LOAD
            out.u32(UInt32(offsets[index])); out.u32(section.address); out.u32(section.address)
            out.u32(section.kind == .zeroed ? 0 : section.size); out.u32(section.size)
            out.u32(section.kind == .code ? 5 : 6)                    // R+X, R+W
            out.u32(4)
        }
        for (index, section) in sections.enumerated() where section.kind != .zeroed {
            out.zeros(offsets[index] - out.bytes.count)
            out.append(section.bytes)
        }
        out.zeros(symtabOffset - out.bytes.count)
        out.append(symbolTable.bytes)
        out.append(names.bytes)
        out.append(sectionNames.bytes)
        out.zeros(sectionHeadersOffset - out.bytes.count)
        // Section headers: null, the sections, .symtab, .strtab, .shstrtab.
        out.zeros(40)
        for (index, section) in sections.enumerated() {
            let flags: UInt32 = section.kind == .code ? 6 : 3           // ALLOC+EXEC, WRITE+ALLOC
            sectionHeader(&out, name: sectionNameOffsets[index], type: section.kind == .zeroed ? 8 : 1, flags: flags,
                          address: section.address, offset: offsets[index], size: Int(section.size), alignment: section.alignment)
        }
        sectionHeader(&out, name: symtabName, type: 2, offset: symtabOffset, size: symbolTable.bytes.count,
                      link: UInt32(sections.count + 2), info: UInt32(1 + ordered.count { !$0.isGlobal }), alignment: 4, entrySize: 16)
        sectionHeader(&out, name: strtabName, type: 3, offset: strtabOffset, size: names.bytes.count)
        sectionHeader(&out, name: shstrtabName, type: 3, offset: shstrtabOffset, size: sectionNames.bytes.count)
        return out.bytes
    }

    func sectionHeader(_ out: inout ByteWriter, name: UInt32, type: UInt32, flags: UInt32 = 0, address: UInt32 = 0, offset: Int, size: Int,
                       link: UInt32 = 0, info: UInt32 = 0, alignment: UInt32 = 1, entrySize: UInt32 = 0) {
        for field in [name, type, flags, address, UInt32(offset), UInt32(size), link, info, alignment, entrySize] { out.u32(field) }
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v >> 8), UInt8(v & 0xff)] }
    mutating func u32(_ v: UInt32) { bytes += [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
    mutating func zeros(_ count: Int) { if count > 0 { bytes += [UInt8](repeating: 0, count: count) } }
    mutating func append(_ more: [UInt8]) { bytes += more }
}

/// A string table: offset 0 is the empty string.
struct StringTable {
    var bytes: [UInt8] = [0]
    mutating func add(_ name: String) -> UInt32 {
        let offset = UInt32(bytes.count)
        bytes += Array(name.utf8) + [0]
        return offset
    }
}
