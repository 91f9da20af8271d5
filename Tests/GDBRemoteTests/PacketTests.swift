import GDBRemote
import Testing

/// Checksums here are GDB's own: copied from `set debug remote 1` logs of lm32-elf-gdb talking
/// to the stub, or summed by hand ('O' 0x4f + 'K' 0x4b = 0x9a).
@Suite struct PacketTests {
    func decode(_ text: String) -> [RemoteEvent] {
        var decoder = PacketDecoder()
        return Array(text.utf8).compactMap { decoder.feed($0) }
    }

    @Test func framesWithGDBsChecksums() {
        #expect(String(decoding: framePacket("OK"), as: UTF8.self) == "$OK#9a")
        #expect(String(decoding: framePacket("g"), as: UTF8.self) == "$g#67")
        #expect(String(decoding: framePacket("m38,4"), as: UTF8.self) == "$m38,4#38")
        #expect(String(decoding: framePacket("Z0,38,4"), as: UTF8.self) == "$Z0,38,4#81")
        #expect(String(decoding: framePacket(""), as: UTF8.self) == "$#00")
    }

    @Test func escapesReservedBytes() {
        // '}' 0x7d then '#' ^ 0x20 = 0x03: sum 0x80.
        #expect(framePacket([UInt8(ascii: "#")]) == Array("$}\u{03}#80".utf8))
        #expect(decode("$X0,1:}\u{03}#9f") == [.packet(Array("X0,1:#".utf8))])
    }

    @Test func decodesPacketsAcksAndInterrupts() {
        #expect(decode("+$qSupported:swbreak+#8b-") == [.ack, .packet(Array("qSupported:swbreak+".utf8)), .nack])
        #expect(decode("\u{03}") == [.interrupt])
        #expect(decode("$vKill;a410#33") == [.packet(Array("vKill;a410".utf8))])
        #expect(decode("noise$?#3f") == [.packet([UInt8(ascii: "?")])])
    }

    @Test func reportsBadChecksumsAsCorrupt() {
        #expect(decode("$g#68") == [.corrupt])
        #expect(decode("$g#zz") == [.corrupt])
        #expect(decode("$g#68$g#67") == [.corrupt, .packet([UInt8(ascii: "g")])])
    }

    @Test func rejectsOverlongPayloads() {
        var decoder = PacketDecoder()
        decoder.maximumPayload = 4
        let body = "mmmmmmmm"
        let sum = body.utf8.reduce(UInt8(0)) { $0 &+ $1 }
        let events = Array("$\(body)#\(hexString([sum]))".utf8).compactMap { decoder.feed($0) }
        #expect(events == [.corrupt])
    }

    @Test func hexRoundTrips() {
        #expect(hexString([0x00, 0xab, 0x7f]) == "00ab7f")
        #expect(bytes(fromHex: "00AB7f") == [0x00, 0xab, 0x7f])
        #expect(bytes(fromHex: "abc") == nil)
        #expect(bytes(fromHex: "zz") == nil)
    }
}
