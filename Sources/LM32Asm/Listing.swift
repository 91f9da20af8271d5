/// The listing: address, encoded bytes (as 32-bit words where whole), and the source line.
public enum LM32Listing {
    public static func text(_ lines: [LM32ListingLine]) -> String {
        var out = ""
        var file = ""
        for line in lines {
            if line.file != file {
                file = line.file
                out += "# \(file)\n"
            }
            let address = line.address.map { hex($0, 8) } ?? "        "
            var chunks = stride(from: 0, to: line.bytes.count, by: 4).map { start in
                line.bytes[start..<min(start + 4, line.bytes.count)].map { hex(UInt32($0), 2) }.joined()
            }
            if chunks.count > 4 { chunks = Array(chunks.prefix(4)) + ["..."] }
            let encoded = chunks.joined(separator: " ")
            let number = String(line.line)
            let padded = encoded + String(repeating: " ", count: max(0, 28 - encoded.count))
            out += String(repeating: " ", count: max(0, 5 - number.count)) + number + "  " + address + "  " + padded + "  " + line.text + "\n"
        }
        return out
    }

    static func hex(_ value: UInt32, _ digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
