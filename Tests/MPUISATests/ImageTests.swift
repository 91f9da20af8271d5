import MPUISA
import Testing

@Suite struct ImageTests {
    @Test func crc32CheckValue() {
        // The standard check value of CRC-32/ISO-HDLC (zlib, IEEE 802.3).
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    let sample = MPUImage(
        entry: 8,
        code: [0xe6, 0x20, 0, 0, 0, 0, 0x10, 0, 0xcc, 0, 0, 0, 0, 0, 0, 0],
        symbols: [MPUSymbol(name: "start", kind: .label, value: 8), MPUSymbol(name: "FOUND", kind: .constant, value: 3)],
        metadata: MPUMetadata(name: "sample", description: "two words", alerts: [MPUAlert(value: 3, name: "FOUND", description: "found it")]))

    @Test func serializedLayoutByHand() {
        let bytes = sample.serialized()
        #expect(Array(bytes[0..<16]) == [0x7f, 0x4d, 0x50, 0x55, 0, 1, 0, 0, 0, 0, 0, 8, 0, 3, 0, 0])
        // First section entry: kind 1 (code), offset 16 + 3 * 12 = 52, length 16.
        #expect(Array(bytes[16..<28]) == [0, 1, 0, 0, 0, 0, 0, 52, 0, 0, 0, 16])
        #expect(Array(bytes[52..<68]) == sample.code)
        let crc = CRC32.checksum(bytes.dropLast(4))
        #expect(Array(bytes.suffix(4)) == [UInt8(crc >> 24), UInt8((crc >> 16) & 0xff), UInt8((crc >> 8) & 0xff), UInt8(crc & 0xff)])
    }

    @Test func parsesWhatItWrites() throws {
        #expect(try MPUImage(parsing: sample.serialized()) == sample)
        let bare = MPUImage(code: sample.code)
        #expect(try MPUImage(parsing: bare.serialized()) == bare)
    }

    /// Rewrites the checksum so that a structural fault is what the reader sees.
    func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var body = Array(bytes.dropLast(4))
        let crc = CRC32.checksum(body)
        body += [UInt8(crc >> 24), UInt8((crc >> 16) & 0xff), UInt8((crc >> 8) & 0xff), UInt8(crc & 0xff)]
        return body
    }

    @Test func structuralFaultsNameTheirOffset() {
        var bytes = sample.serialized()
        bytes[5] = 2
        #expect(throws: ImageError(offset: 4, message: "unsupported image version 2 (this mpuas reads version 1)")) { try MPUImage(parsing: resealed(bytes)) }

        bytes = sample.serialized()
        bytes[11] = 12 // entry beyond the 16-byte code
        #expect(throws: ImageError(offset: 8, message: "entry point 0xc is not an instruction address in the 16-byte code")) { try MPUImage(parsing: resealed(bytes)) }

        bytes = sample.serialized()
        bytes[17] = 9 // unknown section kind
        #expect(throws: ImageError(offset: 16, message: "unknown section kind 9")) { try MPUImage(parsing: resealed(bytes)) }

        bytes = sample.serialized()
        bytes[27] = 0xff // code length past the end
        #expect((try? MPUImage(parsing: resealed(bytes))) == nil)

        bytes = sample.serialized()
        bytes[27] = 12 // code length not a multiple of 8
        #expect(throws: ImageError(offset: 24, message: "code length 12 is not a multiple of 8")) { try MPUImage(parsing: resealed(bytes)) }
    }

    @Test func intelHexRecordsByHand() {
        // One 8-byte record at address 0: length 08, address 0000, type 00; the bytes sum
        // to 0x08 + 0xe6 + 0x20 + 0x10 = 0x11e, so the checksum is 0x100 - 0x1e = 0xe2.
        let text = ImageExport.intelHex([0xe6, 0x20, 0, 0, 0, 0, 0x10, 0])
        #expect(text == ":08000000E620000000001000E2\n:00000001FF\n")
    }
}
