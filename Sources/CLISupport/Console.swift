import Foundation

/// Output helpers shared by the command-line tools. The libraries never print; the tools
/// own standard output, standard error and exit codes.
public enum Console {
    public static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints a message on standard error and exits.
    public static func fail(_ message: String, code: Int32) -> Never {
        error(message)
        exit(code)
    }

    public static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    public static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Writes bytes to a file atomically, or to standard output for "-".
    public static func write(_ bytes: [UInt8], to path: String) throws(FileFailure) {
        try writeFile(bytes, to: path)
    }
}

/// Reads a number the way users write addresses and sizes: decimal, 0x hex, 0b binary,
/// with optional `_` separators and, for sizes, a K/M/G/T suffix (powers of 1024).
public func parseNumber(_ text: String, allowSuffix: Bool = false) -> UInt64? {
    var body = text.lowercased().replacingOccurrences(of: "_", with: "")
    var multiplier: UInt64 = 1
    if allowSuffix, let last = body.last, let power = ["k": 10, "m": 20, "g": 30, "t": 40][String(last)] {
        multiplier = 1 << UInt64(power)
        body.removeLast()
        if body.hasSuffix("i") { body.removeLast() }
    }
    let value: UInt64?
    if body.hasPrefix("0x") { value = UInt64(body.dropFirst(2), radix: 16) }
    else if body.hasPrefix("0b") { value = UInt64(body.dropFirst(2), radix: 2) }
    else { value = UInt64(body, radix: 10) }
    guard let value, !body.isEmpty else { return nil }
    let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
    return overflow ? nil : product
}
