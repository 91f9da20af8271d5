import LM32Sim

/// The Milkymist UART (docs/soc.md): registers at word offsets,
/// 32-bit accesses only, interrupt line 0 as a level.
///   0x00 RXTX     write: transmit the low byte (sets TX_EVT); read: the last byte received
///   0x04 DIVISOR  f_clk / 16 / baud; stored (transmission is instantaneous here)
///   0x08 STAT     bit 0 THRE (always 1), bit 1 RX_EVT, bit 2 TX_EVT; write 1 to clear RX/TX_EVT
///   0x0c CTRL     bit 0 RX_IRQ_EN, bit 1 TX_IRQ_EN, bit 2 THRU_EN
///   0x10 DBG      bit 0 BREAK_EN
public final class UART: BusDevice {
    public static let interruptLine = 0
    public var waitStates: Int { 0 }
    public private(set) var divisor: UInt32 = 0
    public private(set) var status: UInt32 = 1
    public private(set) var control: UInt32 = 0
    public private(set) var debug: UInt32 = 0
    public private(set) var received: UInt8 = 0
    /// Receives every byte the firmware transmits, in order.
    public var transmit: (UInt8) -> Void

    public init(transmit: @escaping (UInt8) -> Void = { _ in }) {
        self.transmit = transmit
    }

    /// The level of line 0: (RX_EVT and RX_IRQ_EN) or (TX_EVT and TX_IRQ_EN).
    public var interruptLevel: Bool { (status & 2 != 0 && control & 1 != 0) || (status & 4 != 0 && control & 2 != 0) }

    /// A byte from the terminal; refused (false) while the previous one is unread (RX_EVT set).
    public func receive(_ byte: UInt8) -> Bool {
        guard status & 2 == 0 else { return false }
        received = byte
        status |= 2
        return true
    }

    public func read(_ offset: UInt32, size: Int) -> UInt32? {
        guard size == 4 else { return nil }
        switch offset {
        case 0x00: return UInt32(received)
        case 0x04: return divisor
        case 0x08: return status
        case 0x0c: return control
        case 0x10: return debug
        default: return nil
        }
    }

    public func write(_ offset: UInt32, size: Int, value: UInt32) -> Bool {
        guard size == 4 else { return false }
        switch offset {
        case 0x00:
            transmit(UInt8(truncatingIfNeeded: value))
            status |= 4
        case 0x04: divisor = value
        case 0x08: status &= ~(value & 6)                    // RX_EVT, TX_EVT: write one to clear
        case 0x0c: control = value & 7
        case 0x10: debug = value & 1
        default: return false
        }
        return true
    }
}
