import EricSoC
import Testing

/// minimac2 behaviour from the reference sheet (section 3.4). FCS values from Python's
/// zlib.crc32 (an independent CRC-32): bytes 0..59 give 0xb0ec7fee, sent little-endian.
@Suite struct EthernetMACTests {
    static let frame = (0..<60).map { UInt8($0) }
    static let fcs: [UInt8] = [0xee, 0x7f, 0xec, 0xb0]

    @Test func transmitsAWellFormedFrameAndPulses() {
        var sent: [[UInt8]] = []
        let mac = EthernetMAC(transmit: { sent.append($0) })
        mac.buffers.load(EthernetMAC.preamble + Self.frame + Self.fcs, at: EthernetMAC.transmitOffset)
        #expect(mac.write(0x18, size: 4, value: 72))
        #expect(sent == [Self.frame])
        #expect(mac.transmitPulse && mac.transmitErrors.isEmpty)
        #expect(mac.read(0x18, size: 4) == 72)                 // still on the wire: this clock stands still
    }

    @Test func malformedFramesAreCountedNotSent() {
        var sent: [[UInt8]] = []
        let mac = EthernetMAC(transmit: { sent.append($0) })
        mac.buffers.load(EthernetMAC.preamble + Self.frame + [0, 0, 0, 0], at: EthernetMAC.transmitOffset)
        #expect(mac.write(0x18, size: 4, value: 72))
        #expect(mac.write(0x18, size: 4, value: 40))
        mac.buffers.load([0x55], at: EthernetMAC.transmitOffset + 7)
        #expect(mac.write(0x18, size: 4, value: 72))
        #expect(sent.isEmpty)
        #expect(mac.transmitErrors == ["frame of 72 bytes with a wrong FCS", "TXCOUNT 40 outside 64...1530", "frame of 72 bytes without preamble and SFD"])
    }

    @Test func receivesIntoLoadedSlotsInOrder() {
        let mac = EthernetMAC()
        #expect(!mac.receive([1, 2, 3]))                           // no slot LOADED: dropped
        #expect(mac.receiveDrops == 1)
        #expect(mac.write(0x08, size: 4, value: 1) && mac.write(0x10, size: 4, value: 1))
        #expect(mac.receive(Self.frame))
        #expect(mac.read(0x08, size: 4) == 2 && mac.read(0x0c, size: 4) == 72 && mac.receiveLevel)
        #expect(Array(mac.buffers.bytes[0..<72]) == EthernetMAC.preamble + Self.frame + Self.fcs)
        #expect(mac.receive([0xaa]))                               // padded to 60 bytes, into slot 1
        #expect(mac.read(0x10, size: 4) == 2 && mac.read(0x14, size: 4) == 72)
        #expect(mac.buffers.bytes[0x800 + 8] == 0xaa && mac.buffers.bytes[0x800 + 9] == 0)
        #expect(mac.write(0x08, size: 4, value: 0) && mac.write(0x10, size: 4, value: 1))
        #expect(!mac.receiveLevel)
    }

    @Test func registersAndBusErrors() {
        let mac = EthernetMAC()
        #expect(mac.write(0x00, size: 4, value: 3) && mac.read(0x00, size: 4) == 1)
        #expect(mac.write(0x04, size: 4, value: 0xf) && mac.read(0x04, size: 4) == 0xd)   // DI reads 0
        #expect(mac.read(0x1c, size: 4) == nil && mac.read(0x08, size: 1) == nil)
    }

    /// A frame stays on the wire (count + 12-byte gap) x 8 bits at 100 Mbit/s: 6.4 cycles a
    /// byte at 80 MHz, so 72 bytes take ceil(84 x 6.4) = 538 cycles; TXCOUNT reads 72 until then.
    @Test func txcountReadsBusyWhileTheFrameIsOnTheWire() {
        final class Clock: @unchecked Sendable { var now: UInt64 = 1000 }
        let clock = Clock()
        var sent = 0
        let mac = EthernetMAC(clock: { clock.now }, transmit: { _ in sent += 1 })
        mac.buffers.load(EthernetMAC.preamble + Self.frame + Self.fcs, at: EthernetMAC.transmitOffset)
        #expect(mac.write(0x18, size: 4, value: 72) && sent == 1)
        clock.now = 1000 + 537
        #expect(mac.read(0x18, size: 4) == 72)
        #expect(mac.write(0x18, size: 4, value: 72) && sent == 1)          // refused while busy, and recorded
        #expect(mac.transmitErrors.count == 1)
        clock.now = 1000 + 538
        #expect(mac.read(0x18, size: 4) == 0)
        #expect(mac.write(0x18, size: 4, value: 72) && sent == 2)
    }
}
