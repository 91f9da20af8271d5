// Text forms of program memory for FPGA block-RAM initialisation.

public enum ImageExport {
    /// Intel HEX (the format `objcopy -O ihex` writes): 16 data bytes per record, byte
    /// addresses, then the end-of-file record. Program memory is 64 KiB, so no extended
    /// address records are needed.
    public static func intelHex(_ code: [UInt8]) -> String {
        var lines: [String] = []
        for start in stride(from: 0, to: code.count, by: 16) {
            let chunk = Array(code[start..<min(start + 16, code.count)])
            let record = [UInt8(chunk.count), UInt8(start >> 8), UInt8(start & 0xff), 0x00] + chunk
            let checksum = UInt8(truncatingIfNeeded: 0 &- record.reduce(0) { $0 &+ Int($1) })
            lines.append(":" + (record + [checksum]).map { hexDigits(UInt64($0), 2).uppercased() }.joined())
        }
        lines.append(":00000001FF")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Verilog `$readmemh`: one 64-bit program word per line, word address = line index.
    public static func readmemh(_ code: [UInt8], title: String) -> String {
        var out = "// \(title): \(code.count / InstructionSet.instructionBytes) words of 64 bits, $readmemh format\n"
        for address in stride(from: 0, to: code.count, by: InstructionSet.instructionBytes) {
            out += hexDigits(Instruction.word(from: code[address..<address + InstructionSet.instructionBytes]), 16) + "\n"
        }
        return out
    }
}
