import MPUISA

/// Text reports of an assembly: the listing and the symbol map.
public enum AssemblyReport {
    /// `addr  bytes  line  source`, one row per source line; lines from included files show
    /// `file:line` instead of the line number.
    public static func listing(_ lines: [ListingLine], title: String) -> String {
        var out = "// mpuas listing of \(title)\n// addr  encoding                 line  source\n"
        for line in lines {
            let address = line.address.map { hexDigits(UInt64($0), 4) } ?? "    "
            let bytes = line.bytes.map { hexDigits(UInt64($0), 2) }.joined(separator: " ")
            let place = line.includeDepth == 0 ? String(line.line) : "\(line.file):\(line.line)"
            let padding = String(repeating: " ", count: max(0, 5 - place.count))
            out += "   \(address)  \(bytes.padding(23))  \(padding)\(place)  \(line.text)\n"
        }
        return out
    }

    /// The symbol map: labels by address, then constants by name.
    public static func symbolMap(_ image: MPUImage, title: String) -> String {
        var out = "// mpuas symbol map of \(title)\n// value               kind      name\n"
        for symbol in image.symbols {
            let kind = symbol.kind == .label ? "label" : image.metadata.alerts.contains { $0.name == symbol.name } ? "alert" : "constant"
            out += "0x\(hexDigits(symbol.value, 16))  \(kind.padding(8))  \(symbol.name)\n"
        }
        out += "// entry 0x\(hexDigits(UInt64(image.entry), 4)), \(image.instructionCount) instructions, \(image.code.count) bytes\n"
        return out
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
