#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A source file split into lines (without their terminators).
public struct SourceFile: Sendable {
    /// The path as the user or the `.include` wrote it: what diagnostics show.
    public var path: String
    public var lines: [String]

    public init(path: String, lines: [String]) {
        self.path = path
        self.lines = lines
    }

    /// Decodes UTF-8 text; a byte sequence that is not UTF-8 is an error located at its
    /// line and column. A leading byte-order mark is skipped; CRLF line ends are accepted.
    public init(path: String, bytes: [UInt8]) throws(Diagnostic) {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        var lines: [String] = []
        var lineStart = body.startIndex
        var lineNumber = 1
        func finish(_ end: Int) throws(Diagnostic) {
            var slice = body[lineStart..<end]
            if slice.last == 0x0D { slice = slice.dropLast() }
            guard let text = String(validating: slice, as: UTF8.self) else {
                // Find the first bad byte to name its column.
                var column = 1
                var index = slice.startIndex
                while index < slice.endIndex {
                    let length = SourceFile.utf8SequenceLength(slice, at: index)
                    if length == 0 { break }
                    index += length
                    column += 1
                }
                throw Diagnostic(.error, "invalid UTF-8 byte 0x\(String(slice[index], radix: 16)) (the file must be UTF-8 text)",
                                 at: SourceLocation(file: path, line: lineNumber, column: column))
            }
            if text.unicodeScalars.contains("\0") {
                let column = text.unicodeScalars.prefix { $0 != "\0" }.count + 1
                throw Diagnostic(.error, "NUL character in source (is this a binary file?)",
                                 at: SourceLocation(file: path, line: lineNumber, column: column))
            }
            lines.append(text)
        }
        var index = body.startIndex
        while index < body.endIndex {
            if body[index] == 0x0A {
                try finish(index)
                lineStart = index + 1
                lineNumber += 1
            }
            index += 1
        }
        if lineStart < body.endIndex { try finish(body.endIndex) }
        self.init(path: path, lines: lines)
    }

    /// Length of the valid UTF-8 sequence at `index`, or 0 if it is not valid.
    static func utf8SequenceLength(_ bytes: ArraySlice<UInt8>, at index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return 0
        }
        guard index + length <= bytes.endIndex else { return 0 }
        return String(validating: bytes[index..<(index + length)], as: UTF8.self) == nil ? 0 : length
    }
}

/// Where the assembler gets file contents: the disk, or a dictionary in tests.
public struct SourceProvider: Sendable {
    public var read: @Sendable (String) -> Result<[UInt8], Reason>
    /// A key that is the same for two spellings of one file (for include-cycle detection).
    public var identity: @Sendable (String) -> String
    public var exists: @Sendable (String) -> Bool

    public init(read: @escaping @Sendable (String) -> Result<[UInt8], Reason>,
                identity: @escaping @Sendable (String) -> String,
                exists: @escaping @Sendable (String) -> Bool) {
        self.read = read
        self.identity = identity
        self.exists = exists
    }

    public static let fileSystem = SourceProvider(
        read: { readFile($0) },
        identity: { path in
            guard let resolved = realpath(path, nil) else { return path }
            defer { free(resolved) }
            return String(cString: resolved)
        },
        exists: { access($0, F_OK) == 0 })

    public static func inMemory(_ files: [String: String]) -> SourceProvider {
        SourceProvider(
            read: { path in files[path].map { .success(Array($0.utf8)) } ?? .failure(Reason("No such file or directory")) },
            identity: { normalize($0) },
            exists: { files[$0] != nil })
    }

    /// This provider with one more file, `name`, holding `source` (the text an assembler was
    /// handed directly); every other path still goes to this provider.
    public func adding(_ name: String, source: String) -> SourceProvider {
        let fallback = self
        return SourceProvider(
            read: { $0 == name ? .success(Array(source.utf8)) : fallback.read($0) },
            identity: { $0 == name ? name : fallback.identity($0) },
            exists: { $0 == name || fallback.exists($0) })
    }

    /// Resolves an `.include` path: absolute as is; otherwise next to the including file,
    /// then in each search directory in order.
    public func resolve(include path: String, from includer: String, searchPaths: [String]) -> String? {
        if path.hasPrefix("/") { return exists(path) ? path : nil }
        let directory = SourceProvider.directory(of: includer)
        for base in [directory] + searchPaths {
            let candidate = base.isEmpty ? path : base + "/" + path
            if exists(candidate) { return candidate }
        }
        return nil
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }
}

/// The most a source file, an include or an automaton image may hold: far beyond any real
/// one, and a bound on what a device file (`.include "/dev/zero"`) can make a tool read.
public let sourceFileLimit = 16 << 20

/// Reads a whole file of at most `limit` bytes, or says why not (in the words of the C
/// library, or that it is a directory or too large).
public func readFile(_ path: String, limit: Int = sourceFileLimit) -> Result<[UInt8], Reason> {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return .failure(Reason(String(cString: strerror(errno)))) }
    defer { close(fd) }
    var info = stat()
    if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { return .failure(Reason("Is a directory")) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failure(Reason(String(cString: strerror(errno))))
        }
        if n == 0 { break }
        guard n <= limit - bytes.count else { return .failure(Reason("larger than \(limit >> 20) MiB, the most this tool reads from one file")) }
        bytes += buffer[0..<n]
    }
    return .success(bytes)
}
