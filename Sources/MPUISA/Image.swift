// The MPU image file (`.mpu`): what `mpuas` writes and the checker loads.
//
// All multi-byte fields are big-endian, like the program words themselves.
//   0   magic        7f 4d 50 55 ("\x7fMPU")
//   4   u16 version  1
//   6   u16 flags    0 (reserved)
//   8   u32 entry    byte address of the first instruction to run
//   12  u16 sections number of section-table entries
//   14  u16 reserved 0
//   16  section table: per section u16 kind, u16 reserved (0), u32 offset, u32 length
//   ... section bodies, in table order, inside the file and not overlapping
//   end-4 u32 CRC-32 (IEEE 802.3, as zlib's crc32) of every byte before it
// Section kinds: 1 code (exactly one), 2 symbols, 3 metadata (at most one each).
// Strings are u16 length + UTF-8 bytes. See docs/isa.md, "Image file".

public struct MPUSymbol: Hashable, Sendable {
    public enum Kind: UInt8, Sendable {
        case label = 1
        case constant = 2
    }

    public var name: String
    public var kind: Kind
    public var value: UInt64

    public init(name: String, kind: Kind, value: UInt64) {
        self.name = name
        self.kind = kind
        self.value = value
    }
}

public struct MPUAlert: Hashable, Sendable {
    public var value: UInt64
    public var name: String
    public var description: String?

    public init(value: UInt64, name: String, description: String? = nil) {
        self.value = value
        self.name = name
        self.description = description
    }
}

/// A follow-up an alert asks for (`.follow`): the `int` after the alert carries a page
/// pointer (address bits 12-51), and that page is to be checked by another automaton. Chains of
/// follow-ups are at most `depth` runs long (docs/automata.md, "Correlation").
public struct MPUFollow: Hashable, Sendable {
    public var value: UInt64
    public var automaton: String
    public var depth: UInt8

    public init(value: UInt64, automaton: String, depth: UInt8 = 1) {
        self.value = value
        self.automaton = automaton
        self.depth = depth
    }
}

public struct MPUMetadata: Hashable, Sendable {
    public var name: String?
    public var description: String?
    public var alerts: [MPUAlert]
    /// Alerts whose next `int` is a page pointer to check with another automaton.
    public var follows: [MPUFollow]
    /// Alerts whose next `int` is a value that goes with them (a revision, a field).
    public var operands: [UInt64]
    /// Runs only when another automaton's follow-up asks for it, never on every page.
    public var followUpOnly: Bool

    public init(name: String? = nil, description: String? = nil, alerts: [MPUAlert] = [],
                follows: [MPUFollow] = [], operands: [UInt64] = [], followUpOnly: Bool = false) {
        self.name = name
        self.description = description
        self.alerts = alerts
        self.follows = follows
        self.operands = operands
        self.followUpOnly = followUpOnly
    }

    public var isEmpty: Bool { name == nil && description == nil && alerts.isEmpty && !hasCorrelation }
    var hasCorrelation: Bool { !follows.isEmpty || !operands.isEmpty || followUpOnly }

    /// Whether the `int` after an alert of this value carries a pointer or an operand.
    public func takesOperand(_ value: UInt64) -> Bool {
        operands.contains(value) || follows.contains { $0.value == value }
    }

    /// The name an automaton gave to an alert value, if any.
    public func alertName(for value: UInt64) -> String? {
        alerts.first { $0.value == value }?.name
    }
}

public struct ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Byte offset in the file where the problem is.
    public var offset: Int
    public var message: String
    public var description: String { "at byte \(offset): \(message)" }

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
}

public struct MPUImage: Hashable, Sendable {
    public static let magic: [UInt8] = [0x7f, 0x4d, 0x50, 0x55]
    public static let version: UInt16 = 1
    enum SectionKind: UInt16 {
        case code = 1, symbols = 2, metadata = 3
    }

    public var entry: UInt32
    public var code: [UInt8]
    public var symbols: [MPUSymbol]
    public var metadata: MPUMetadata

    public init(entry: UInt32 = 0, code: [UInt8], symbols: [MPUSymbol] = [], metadata: MPUMetadata = MPUMetadata()) {
        self.entry = entry
        self.code = code
        self.symbols = symbols
        self.metadata = metadata
    }

    public var instructionCount: Int { code.count / InstructionSet.instructionBytes }

    // MARK: Writing

    public func serialized() -> [UInt8] {
        var bodies: [(SectionKind, [UInt8])] = [(.code, code)]
        if !symbols.isEmpty {
            var body = ByteWriter()
            body.u32(UInt32(symbols.count))
            for symbol in symbols {
                body.u8(symbol.kind.rawValue)
                body.u64(symbol.value)
                body.string(symbol.name)
            }
            bodies.append((.symbols, body.bytes))
        }
        if !metadata.isEmpty {
            var body = ByteWriter()
            body.string(metadata.name ?? "")
            body.string(metadata.description ?? "")
            body.u16(UInt16(metadata.alerts.count))
            for alert in metadata.alerts {
                body.u64(alert.value)
                body.string(alert.name)
                body.string(alert.description ?? "")
            }
            // Correlation (optional, so that images without it read as before).
            if metadata.hasCorrelation {
                body.u16(UInt16(metadata.follows.count))
                for follow in metadata.follows {
                    body.u64(follow.value)
                    body.string(follow.automaton)
                    body.u8(follow.depth)
                }
                body.u16(UInt16(metadata.operands.count))
                for value in metadata.operands { body.u64(value) }
                body.u8(metadata.followUpOnly ? 1 : 0)
            }
            bodies.append((.metadata, body.bytes))
        }
        var out = ByteWriter()
        out.bytes += MPUImage.magic
        out.u16(MPUImage.version)
        out.u16(0)
        out.u32(entry)
        out.u16(UInt16(bodies.count))
        out.u16(0)
        var offset = 16 + 12 * bodies.count
        for (kind, body) in bodies {
            out.u16(kind.rawValue)
            out.u16(0)
            out.u32(UInt32(offset))
            out.u32(UInt32(body.count))
            offset += body.count
        }
        for (_, body) in bodies { out.bytes += body }
        out.u32(CRC32.checksum(out.bytes))
        return out.bytes
    }

    // MARK: Reading

    /// Parses and validates an image: magic, version, section table, checksum, and every
    /// program word (so a loaded image never holds an undecodable instruction).
    public init(parsing bytes: [UInt8]) throws(ImageError) {
        func fail(_ offset: Int, _ message: String) -> ImageError { ImageError(offset: offset, message: message) }
        guard bytes.count >= 4, Array(bytes[0..<4]) == MPUImage.magic else {
            let found = bytes.prefix(4).map { hexDigits(UInt64($0), 2) }.joined(separator: " ")
            throw fail(0, "bad magic: expected 7f 4d 50 55 (\"\\x7fMPU\"), found \(found.isEmpty ? "an empty file" : found)")
        }
        guard bytes.count >= 20 else { throw fail(bytes.count, "truncated: \(bytes.count) bytes is shorter than the 16-byte header and checksum") }
        var reader = ByteReader(bytes: bytes, end: bytes.count - 4)
        let stored = UInt32(bytes[bytes.count - 4]) << 24 | UInt32(bytes[bytes.count - 3]) << 16
            | UInt32(bytes[bytes.count - 2]) << 8 | UInt32(bytes[bytes.count - 1])
        let computed = CRC32.checksum(bytes[0..<(bytes.count - 4)])
        guard stored == computed else {
            throw fail(bytes.count - 4, "checksum mismatch: stored 0x\(hexDigits(UInt64(stored), 8)), computed 0x\(hexDigits(UInt64(computed), 8)) (corrupt or truncated file)")
        }
        reader.position = 4
        let version = try reader.u16()
        guard version == MPUImage.version else { throw fail(4, "unsupported image version \(version) (this mpuas reads version \(MPUImage.version))") }
        guard try reader.u16() == 0 else { throw fail(6, "reserved flags are not zero") }
        let entry = try reader.u32()
        let sectionCount = Int(try reader.u16())
        guard try reader.u16() == 0 else { throw fail(14, "reserved header field is not zero") }
        let tableEnd = 16 + 12 * sectionCount
        guard tableEnd <= reader.end else { throw fail(12, "section table of \(sectionCount) entries runs past the end of the file") }

        var seen: [SectionKind: Range<Int>] = [:]
        var code: [UInt8]?
        var symbols: [MPUSymbol] = []
        var metadata = MPUMetadata()
        for index in 0..<sectionCount {
            let entryOffset = 16 + 12 * index
            reader.position = entryOffset
            let rawKind = try reader.u16()
            guard try reader.u16() == 0 else { throw fail(entryOffset + 2, "reserved section field is not zero") }
            let offset = Int(try reader.u32())
            let length = Int(try reader.u32())
            guard let kind = SectionKind(rawValue: rawKind) else { throw fail(entryOffset, "unknown section kind \(rawKind)") }
            guard seen[kind] == nil else { throw fail(entryOffset, "second \(kind) section") }
            guard offset >= tableEnd, offset <= reader.end, length <= reader.end - offset else {
                throw fail(entryOffset + 4, "\(kind) section [\(offset), +\(length)) lies outside the file body [\(tableEnd), \(reader.end))")
            }
            let range = offset..<(offset + length)
            if let other = seen.first(where: { $0.value.overlaps(range) }) {
                throw fail(entryOffset + 4, "\(kind) section overlaps the \(other.key) section")
            }
            seen[kind] = range
            var body = ByteReader(bytes: bytes, end: offset + length)
            body.position = offset
            switch kind {
            case .code:
                guard length % InstructionSet.instructionBytes == 0 else {
                    throw fail(entryOffset + 8, "code length \(length) is not a multiple of \(InstructionSet.instructionBytes)")
                }
                guard length <= InstructionSet.programMemoryBytes else {
                    throw fail(entryOffset + 8, "code length \(length) exceeds the \(InstructionSet.programMemoryBytes)-byte program memory")
                }
                code = Array(bytes[range])
                body.position = body.end
            case .symbols:
                let count = Int(try body.u32())
                for _ in 0..<count {
                    let kindOffset = body.position
                    guard let symbolKind = MPUSymbol.Kind(rawValue: try body.u8()) else {
                        throw fail(kindOffset, "unknown symbol kind \(bytes[kindOffset])")
                    }
                    let value = try body.u64()
                    symbols.append(MPUSymbol(name: try body.string(), kind: symbolKind, value: value))
                }
            case .metadata:
                let name = try body.string()
                let description = try body.string()
                metadata.name = name.isEmpty ? nil : name
                metadata.description = description.isEmpty ? nil : description
                let count = Int(try body.u16())
                for _ in 0..<count {
                    let value = try body.u64()
                    let alertName = try body.string()
                    let alertDescription = try body.string()
                    metadata.alerts.append(MPUAlert(value: value, name: alertName, description: alertDescription.isEmpty ? nil : alertDescription))
                }
                if body.position < body.end {
                    for _ in 0..<Int(try body.u16()) {
                        let value = try body.u64()
                        let automaton = try body.string()
                        metadata.follows.append(MPUFollow(value: value, automaton: automaton, depth: try body.u8()))
                    }
                    for _ in 0..<Int(try body.u16()) { metadata.operands.append(try body.u64()) }
                    let flagOffset = body.position
                    switch try body.u8() {
                    case 0: break
                    case 1: metadata.followUpOnly = true
                    case let flag: throw fail(flagOffset, "unknown follow-up flag \(flag)")
                    }
                }
            }
            guard body.position == body.end else {
                throw fail(body.position, "\(body.end - body.position) unexpected bytes at the end of the \(kind) section")
            }
        }
        guard let code, let codeRange = seen[.code] else { throw fail(12, "no code section") }
        guard entry % UInt32(InstructionSet.instructionBytes) == 0, Int(entry) < max(code.count, 1) else {
            throw fail(8, "entry point 0x\(String(entry, radix: 16)) is not an instruction address in the \(code.count)-byte code")
        }
        for line in Disassembler.decode(code: code) {
            if case .failure(let error) = line.instruction {
                throw fail(codeRange.lowerBound + line.address, "instruction at 0x\(hexDigits(UInt64(line.address), 4)): \(error)")
            }
        }
        self.init(entry: entry, code: code, symbols: symbols, metadata: metadata)
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xff)] }
    mutating func u32(_ value: UInt32) { for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) } }
    mutating func u64(_ value: UInt64) { bytes += Instruction.bytes(of: value) }
    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8.prefix(Int(UInt16.max)))
        u16(UInt16(utf8.count))
        bytes += utf8
    }
}

struct ByteReader {
    let bytes: [UInt8]
    let end: Int
    var position = 0

    mutating func take(_ count: Int) throws(ImageError) -> ArraySlice<UInt8> {
        guard count <= end - position else {
            throw ImageError(offset: position, message: "truncated: needed \(count) more bytes, \(end - position) left")
        }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    mutating func u8() throws(ImageError) -> UInt8 { try take(1).first! }
    mutating func u16() throws(ImageError) -> UInt16 { UInt16(Instruction.word(from: try take(2))) }
    mutating func u32() throws(ImageError) -> UInt32 { UInt32(Instruction.word(from: try take(4))) }
    mutating func u64() throws(ImageError) -> UInt64 { Instruction.word(from: try take(8)) }
    mutating func string() throws(ImageError) -> String {
        let start = position
        let length = Int(try u16())
        let raw = try take(length)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw ImageError(offset: start, message: "string is not valid UTF-8")
        }
        return text
    }
}

/// CRC-32 as in IEEE 802.3, zlib and PNG (reflected polynomial 0xEDB88320).
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        return crc
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        // Arrays and slices (every frame the simulated MAC checks) without the generic
        // iterator: it was 5 % of `eric scan --soc`.
        if let crc = bytes.withContiguousStorageIfAvailable({ buffer in
            table.withUnsafeBufferPointer { update(0xFFFF_FFFF, buffer, table: $0) }
        }) {
            return crc ^ 0xFFFF_FFFF
        }
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static func update(_ start: UInt32, _ bytes: UnsafeBufferPointer<UInt8>, table: UnsafeBufferPointer<UInt32>) -> UInt32 {
        var crc = start
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        return crc
    }
}
