import LM32Sim
import MPUISA

/// The minimac2 Ethernet MAC (Milkymist's minimac2; docs/soc.md). Its registers are one
/// device; its three 2 KiB buffers (RX0 +0x000, RX1 +0x800, TX +0x1000) are plain memory the
/// firmware fills directly, shared with this device.
///   0x00 SETUP (bit 0 PHY_RST)   0x04 MDIO (bit-banged; the PHY is not modelled: DI reads 0)
///   0x08 STATE0  0x0c COUNT0  0x10 STATE1  0x14 COUNT1   slot states: 0 EMPTY, 1 LOADED, 2 PENDING
///   0x18 TXCOUNT  writing n sends the n bytes of the TX buffer (preamble + SFD + frame + FCS);
///                 it reads n until they have left at the wire's rate (100 Mbit/s), then 0
/// Lines: 10 RX (a level while a slot is PENDING), 11 TX (a pulse after each transmission).
public final class EthernetMAC: BusDevice {
    public static let receiveLine = 10
    public static let transmitLine = 11
    public static let bufferSize = 0x800
    public static let transmitOffset = 0x1000
    public static let preamble: [UInt8] = [0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0xd5]
    public var waitStates: Int { 0 }

    /// The buffers (6 KiB: RX0, RX1, TX), to be mapped at their own address.
    public let buffers: Memory
    public private(set) var setup: UInt32 = 0
    public private(set) var mdio: UInt32 = 0
    public private(set) var slotStates: [UInt32] = [0, 0] {
        didSet { receiveLevel = slotStates.contains(2) }
    }
    public private(set) var slotCounts: [UInt32] = [0, 0]
    /// Frames the firmware asked to send that were malformed (count, preamble or FCS): not
    /// sent, but counted and reported, never silently lost.
    public private(set) var transmitErrors: [String] = []
    /// Received frames dropped because no slot was LOADED.
    public private(set) var receiveDrops = 0
    /// Set by a transmission; the SoC pulses line 11 and clears it.
    public var transmitPulse = false
    /// Receives every frame sent (destination MAC to the end of the payload, without FCS).
    public var transmit: ([UInt8]) -> Void
    /// The current CPU cycle, and CPU cycles per byte on the wire (100 Mbit/s at 80 MHz: 6.4).
    public var clock: () -> UInt64
    public let cyclesPerByte: Double
    /// When the frame being sent has left (TXCOUNT reads its count until then).
    public private(set) var busyUntil: UInt64 = 0
    var sendingCount: UInt32 = 0

    public init(clockHz: UInt64 = 80_000_000, bitsPerSecond: Double = 100e6, clock: @escaping () -> UInt64 = { 0 },
                transmit: @escaping ([UInt8]) -> Void = { _ in }) {
        buffers = Memory(size: 3 * Self.bufferSize)
        self.transmit = transmit
        self.clock = clock
        cyclesPerByte = Double(clockHz) * 8 / bitsPerSecond
    }

    /// Whether a frame is still on the wire.
    public var busy: Bool { clock() < busyUntil }

    /// Line 10: a slot holds a received frame (kept with the slots: asked on every access).
    public private(set) var receiveLevel = false

    /// A frame from the network (without preamble or FCS): into the first LOADED slot, laid out
    /// as the hardware does (preamble, frame padded to 60 bytes, FCS little-endian).
    @discardableResult
    public func receive(_ frame: [UInt8]) -> Bool {
        guard let slot = slotStates.firstIndex(of: 1), frame.count <= 1514 else {
            receiveDrops += 1
            return false
        }
        var padded = frame
        if padded.count < 60 { padded += [UInt8](repeating: 0, count: 60 - padded.count) }
        let fcs = CRC32.checksum(padded)
        let bytes = Self.preamble + padded + (0..<4).map { UInt8(truncatingIfNeeded: fcs >> UInt32(8 * $0)) }
        buffers.load(bytes, at: slot * Self.bufferSize)
        slotCounts[slot] = UInt32(bytes.count)
        slotStates[slot] = 2
        return true
    }

    public func read(_ offset: UInt32, size: Int) -> UInt32? {
        guard size == 4 else { return nil }
        switch offset {
        case 0x00: return setup
        case 0x04: return mdio & ~2                             // DI: no PHY answers
        case 0x08, 0x10: return slotStates[Int(offset - 0x08) / 8]
        case 0x0c, 0x14: return slotCounts[Int(offset - 0x0c) / 8]
        case 0x18: return busy ? sendingCount : 0             // n while the frame is on the wire
        default: return nil
        }
    }

    public func write(_ offset: UInt32, size: Int, value: UInt32) -> Bool {
        guard size == 4 else { return false }
        switch offset {
        case 0x00: setup = value & 1
        case 0x04: mdio = value & 0xd
        case 0x08, 0x10: slotStates[Int(offset - 0x08) / 8] = value & 3
        case 0x0c, 0x14: slotCounts[Int(offset - 0x0c) / 8] = value & 0x7ff
        case 0x18: send(Int(value))
        default: return false
        }
        return true
    }

    func send(_ count: Int) {
        guard count > 0 else { return }
        guard !busy else {
            transmitErrors.append("TXCOUNT written while the previous frame was still on the wire (that frame was not sent again)")
            return
        }
        transmitPulse = true
        guard (64...1530).contains(count) else {
            transmitErrors.append("TXCOUNT \(count) outside 64...1530")
            return
        }
        let bytes = (0..<count).map { buffers.storage[Self.transmitOffset + $0] }
        guard Array(bytes.prefix(8)) == Self.preamble else {
            transmitErrors.append("frame of \(count) bytes without preamble and SFD")
            return
        }
        let frame = Array(bytes[8..<(count - 4)])
        let fcs = bytes[(count - 4)...].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << UInt32(8 * $1.offset) }
        guard fcs == CRC32.checksum(frame) else {
            transmitErrors.append("frame of \(count) bytes with a wrong FCS")
            return
        }
        // On the wire: the bytes plus the 12-byte inter-frame gap.
        sendingCount = UInt32(count)
        busyUntil = clock() + UInt64((Double(count + 12) * cyclesPerByte).rounded(.up))
        transmit(frame)
    }
}
