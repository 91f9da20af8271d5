/// Reading 32-bit big-endian ELF executables (as GNU ld makes them for lm32-elf): the entry
/// point, the loadable segments and the symbol table. Facts: the System V ABI, "Object Files".
public struct ELF32File: Sendable {
    public static let machineLatticeMico32: UInt16 = 138   // EM_LATTICEMICO32

    /// A PT_LOAD segment: `data` goes at `address`, followed by `memorySize - data.count` zeros.
    public struct Segment: Sendable, Equatable {
        public var address: UInt32
        public var data: [UInt8]
        public var memorySize: UInt32
        public var flags: UInt32
        /// Its index among the program headers and where its header is in the file (0 for a
        /// segment that was not read from a file), so that errors can point at it.
        public var index: Int
        public var headerOffset: Int

        public init(address: UInt32, data: [UInt8], memorySize: UInt32, flags: UInt32, index: Int = 0, headerOffset: Int = 0) {
            self.address = address
            self.data = data
            self.memorySize = memorySize
            self.flags = flags
            self.index = index
            self.headerOffset = headerOffset
        }
    }

    public struct Symbol: Sendable, Equatable {
        public var name: String
        public var value: UInt32
        public var size: UInt32
        public var isGlobal: Bool

        public init(name: String, value: UInt32, size: UInt32, isGlobal: Bool) {
            self.name = name
            self.value = value
            self.size = size
            self.isGlobal = isGlobal
        }
    }

    public var machine: UInt16
    public var entry: UInt32
    public var segments: [Segment]
    public var symbols: [Symbol]

    public init(machine: UInt16, entry: UInt32, segments: [Segment], symbols: [Symbol]) {
        self.machine = machine
        self.entry = entry
        self.segments = segments
        self.symbols = symbols
    }

    public func symbol(named name: String) -> Symbol? { symbols.first { $0.name == name } }
}

/// What is wrong with a file, and at which byte.
public struct ELF32Error: Error, Equatable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public var description: String { "byte \(offset): \(message)" }
}

extension ELF32File {
    /// Parses `bytes`; `machine` (if given) must match e_machine.
    public init(parsing bytes: [UInt8], machine expected: UInt16? = ELF32File.machineLatticeMico32) throws(ELF32Error) {
        let r = BigEndianReader(bytes)
        guard bytes.count >= 52 else { throw ELF32Error(offset: bytes.count, message: "file too short for an ELF header (52 bytes)") }
        guard bytes[0..<4].elementsEqual([0x7f, 0x45, 0x4c, 0x46]) else {
            throw ELF32Error(offset: 0, message: "not an ELF file (expected \\x7fELF)")
        }
        guard bytes[4] == 1 else { throw ELF32Error(offset: 4, message: "expected a 32-bit ELF file (EI_CLASS 1), found \(bytes[4])") }
        guard bytes[5] == 2 else { throw ELF32Error(offset: 5, message: "expected big-endian data (EI_DATA 2), found \(bytes[5])") }
        let machine = try r.u16(18)
        if let expected, machine != expected {
            throw ELF32Error(offset: 18, message: "expected e_machine \(expected) (LatticeMico32), found \(machine)")
        }
        let entry = try r.u32(24)
        let phoff = Int(try r.u32(28)), shoff = Int(try r.u32(32))
        let phentsize = Int(try r.u16(42)), phnum = Int(try r.u16(44))
        let shentsize = Int(try r.u16(46)), shnum = Int(try r.u16(48))

        var segments: [Segment] = []
        if phnum > 0 {
            guard phentsize >= 32 else { throw ELF32Error(offset: 42, message: "program header size \(phentsize) is below 32") }
            for index in 0..<phnum {
                let at = phoff + index * phentsize
                guard try r.u32(at) == 1 else { continue }                  // PT_LOAD only
                let offset = Int(try r.u32(at + 4)), address = try r.u32(at + 8)
                let fileSize = Int(try r.u32(at + 16)), memorySize = try r.u32(at + 20)
                guard fileSize <= Int(memorySize) else {
                    throw ELF32Error(offset: at + 16, message: "segment \(index): p_filesz \(fileSize) exceeds p_memsz \(memorySize)")
                }
                guard offset <= bytes.count, fileSize <= bytes.count - offset else {
                    throw ELF32Error(offset: at + 4, message: "segment \(index): bytes \(offset)+\(fileSize) lie past the end of the file (\(bytes.count) bytes)")
                }
                segments.append(Segment(address: address, data: Array(bytes[offset..<offset + fileSize]),
                                        memorySize: memorySize, flags: try r.u32(at + 24), index: index, headerOffset: at))
            }
        }

        var symbols: [Symbol] = []
        if shnum > 0 && shentsize >= 40 {
            func section(_ index: Int) throws(ELF32Error) -> (type: UInt32, offset: Int, size: Int, link: Int, entsize: Int) {
                let at = shoff + index * shentsize
                return (try r.u32(at + 4), Int(try r.u32(at + 16)), Int(try r.u32(at + 20)), Int(try r.u32(at + 24)), Int(try r.u32(at + 36)))
            }
            for index in 0..<shnum where try section(index).type == 2 {    // SHT_SYMTAB
                let table = try section(index)
                guard table.link < shnum else { throw ELF32Error(offset: shoff + index * shentsize + 24, message: "symbol table links to missing section \(table.link)") }
                let strings = try section(table.link)
                let entrySize = max(table.entsize, 16)
                for k in 1..<max(1, table.size / entrySize) {
                    let at = table.offset + k * entrySize
                    let nameOffset = Int(try r.u32(at))
                    let info = try r.u8(at + 12)
                    guard info & 0xf <= 2 else { continue }                // NOTYPE, OBJECT, FUNC
                    let name = try r.cString(strings.offset + nameOffset, limit: strings.offset + strings.size)
                    guard !name.isEmpty else { continue }
                    symbols.append(Symbol(name: name, value: try r.u32(at + 4), size: try r.u32(at + 8), isGlobal: info >> 4 == 1))
                }
            }
        }
        self.init(machine: machine, entry: entry, segments: segments, symbols: symbols)
    }
}

/// Bounds-checked big-endian reads that report the offset they failed at.
struct BigEndianReader {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func need(_ at: Int, _ count: Int) throws(ELF32Error) {
        guard at >= 0, count <= bytes.count, at <= bytes.count - count else {
            throw ELF32Error(offset: max(at, 0), message: "expected \(count) more bytes, the file ends at \(bytes.count)")
        }
    }
    func u8(_ at: Int) throws(ELF32Error) -> UInt8 { try need(at, 1); return bytes[at] }
    func u16(_ at: Int) throws(ELF32Error) -> UInt16 { try need(at, 2); return UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
    func u32(_ at: Int) throws(ELF32Error) -> UInt32 {
        try need(at, 4)
        return UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
    func cString(_ at: Int, limit: Int) throws(ELF32Error) -> String {
        var end = at
        while true {
            guard end < min(limit, bytes.count) else { throw ELF32Error(offset: at, message: "unterminated symbol name") }
            if bytes[end] == 0 { break }
            end += 1
        }
        return String(decoding: bytes[at..<end], as: UTF8.self)
    }
}
