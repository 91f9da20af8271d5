#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file the tools could not write, said the way a person can act on it (the C library's
/// words, and which folder is missing), never Foundation's error domains and codes.
public struct FileFailure: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public var description: String { "\(path): cannot write: \(reason)" }
}

/// Why `path` cannot be created, from `errno` after a failed open.
func explain(_ code: Int32, path: String) -> String {
    let words = String(cString: strerror(code))
    switch code {
    case ENOENT:
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        return "\(words) (the folder '\(folder.isEmpty ? "/" : folder)' does not exist)"
    case EISDIR: return "\(words) (give a file name, not a folder)"
    default: return words
    }
}

/// A file written as it is produced (streaming), or standard output for "-".
public final class OutputFile {
    public let path: String
    let descriptor: Int32
    let ownsDescriptor: Bool

    /// `mode`: the permissions of a file created (0o600 for a secret: nobody else may read it).
    public init(_ path: String, mode: mode_t = 0o644) throws(FileFailure) {
        self.path = path
        if path == "-" {
            descriptor = STDOUT_FILENO
            ownsDescriptor = false
            return
        }
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { throw FileFailure(path: path, reason: explain(EISDIR, path: path)) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileFailure(path: path, reason: explain(errno, path: path)) }
        descriptor = fd
        ownsDescriptor = true
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    public func write(_ bytes: [UInt8]) throws(FileFailure) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileFailure(path: path, reason: String(cString: strerror(errno)))
            }
            done += n
        }
    }
}

/// Writes a whole file at once: into a temporary file beside it, then renamed over it, so
/// that a reader never sees half of it. "-" is standard output.
public func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(FileFailure) {
    if path == "-" { return try OutputFile(path).write(bytes) }
    var info = stat()
    if stat(path, &info) == 0 {
        if info.st_mode & S_IFMT == S_IFDIR { throw FileFailure(path: path, reason: explain(EISDIR, path: path)) }
        // A device or a pipe (/dev/null, a FIFO) is written into: renaming a file over it
        // would replace the device node itself (as root, /dev/null became a regular file).
        if info.st_mode & S_IFMT != S_IFREG { return try OutputFile(path, mode: mode).write(bytes) }
    }
    let temporary = path + ".tmp-\(getpid())"
    do {
        let file = try OutputFile(temporary, mode: mode)
        try file.write(bytes)
    } catch {
        unlink(temporary)
        throw FileFailure(path: path, reason: error.reason)
    }
    guard rename(temporary, path) == 0 else {
        let reason = explain(errno, path: path)
        unlink(temporary)
        throw FileFailure(path: path, reason: reason)
    }
}

/// Fails as writing `path` would (a folder, a missing folder), before any work is done that
/// the failure would waste. "-" is standard output and always writable.
public func checkWritable(_ path: String) throws(FileFailure) {
    guard path != "-" else { return }
    var info = stat()
    if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { throw FileFailure(path: path, reason: explain(EISDIR, path: path)) }
    let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
    if stat(folder.isEmpty ? "/" : folder, &info) != 0 || info.st_mode & S_IFMT != S_IFDIR {
        throw FileFailure(path: path, reason: explain(ENOENT, path: path))
    }
}
