import EricSoC
import Testing

/// Register behaviour from the reference sheet (section 3.2), one register at a time.
@Suite struct UARTTests {
    @Test func resetState() {
        let uart = UART()
        #expect(uart.read(0x08, size: 4) == 1)           // STAT: THRE only
        for offset: UInt32 in [0x00, 0x04, 0x0c, 0x10] { #expect(uart.read(offset, size: 4) == 0) }
        #expect(!uart.interruptLevel)
    }

    @Test func transmitSetsTXEventAndInterruptsWhenEnabled() {
        var sent: [UInt8] = []
        let uart = UART { sent.append($0) }
        #expect(uart.write(0x00, size: 4, value: 0x1234_5641))   // only the low byte goes out
        #expect(sent == [0x41])
        #expect(uart.read(0x08, size: 4) == 0b101)
        #expect(!uart.interruptLevel)                             // TX_IRQ_EN clear
        #expect(uart.write(0x0c, size: 4, value: 0b010))
        #expect(uart.interruptLevel)
        #expect(uart.write(0x08, size: 4, value: 0b100))          // write one to clear TX_EVT
        #expect(uart.read(0x08, size: 4) == 1 && !uart.interruptLevel)
        #expect(uart.write(0x08, size: 4, value: 0b001))          // THRE cannot be cleared
        #expect(uart.read(0x08, size: 4) == 1)
    }

    @Test func receiveHoldsOneByteUntilAcknowledged() {
        let uart = UART()
        #expect(uart.write(0x0c, size: 4, value: 0b001))
        #expect(uart.receive(0x61))
        #expect(!uart.receive(0x62))                              // refused while RX_EVT is set
        #expect(uart.read(0x00, size: 4) == 0x61 && uart.interruptLevel)
        #expect(uart.write(0x08, size: 4, value: 0b010))
        #expect(!uart.interruptLevel && uart.receive(0x62) && uart.read(0x00, size: 4) == 0x62)
    }

    @Test func otherRegistersAndBusErrors() {
        let uart = UART()
        #expect(uart.write(0x04, size: 4, value: 43) && uart.read(0x04, size: 4) == 43)   // 80 MHz / 16 / 115200
        #expect(uart.write(0x0c, size: 4, value: 0xff) && uart.read(0x0c, size: 4) == 7)
        #expect(uart.write(0x10, size: 4, value: 3) && uart.read(0x10, size: 4) == 1)
        #expect(uart.read(0x14, size: 4) == nil && !uart.write(0x14, size: 4, value: 0))
        #expect(uart.read(0x00, size: 1) == nil && !uart.write(0x00, size: 2, value: 0))  // word access only
    }
}
