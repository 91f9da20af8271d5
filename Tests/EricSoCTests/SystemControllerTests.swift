import EricSoC
import Testing

/// sysctl registers from the reference sheet (section 3.3); the timers count CPU cycles.
@Suite struct SystemControllerTests {
    final class Clock: @unchecked Sendable { var now: UInt64 = 0 }

    @Test func identityAndGPIO() {
        let sysctl = SystemController()
        #expect(sysctl.read(0x00, size: 4) == 1)                 // GPIO_IN strappings
        #expect(sysctl.read(0x74, size: 4) == 80_000_000)
        #expect(sysctl.read(0x78, size: 4) == 0x0000_041f)
        #expect(sysctl.read(0x7c, size: 4) == 0x1001_4d31)
        #expect(sysctl.read(0x40, size: 4) == 1)                 // ICAP ready
        #expect(sysctl.write(0x04, size: 4, value: 0xa5) && sysctl.read(0x04, size: 4) == 0xa5)
        #expect(sysctl.write(0x50, size: 4, value: 7) && sysctl.read(0x50, size: 4) == 7)
        #expect(sysctl.write(0x54, size: 4, value: 0) && sysctl.read(0x54, size: 4) == 1)   // any write locks
        #expect(sysctl.write(0x00, size: 4, value: 0) && sysctl.read(0x00, size: 4) == 1)   // read-only
        #expect(!sysctl.resetRequested && sysctl.write(0x7c, size: 4, value: 0) && sysctl.resetRequested)
        #expect(sysctl.write(0x40, size: 4, value: 0x000e) && sysctl.shutdownRequested)
        #expect(sysctl.read(0x44, size: 4) == nil && sysctl.read(0x00, size: 2) == nil)
    }

    @Test func oneShotTimerCountsCyclesStopsAndPulsesLine2() {
        let clock = Clock()
        let sysctl = SystemController(clock: { clock.now })
        clock.now = 100
        #expect(sysctl.write(0x14, size: 4, value: 1000))         // COMPARE
        #expect(sysctl.write(0x18, size: 4, value: 0))            // COUNTER
        #expect(sysctl.write(0x10, size: 4, value: 1))            // ENABLE at cycle 100
        clock.now = 600
        #expect(sysctl.read(0x18, size: 4) == 500)
        #expect(sysctl.nextEvent == 1100)
        #expect(sysctl.poll(at: 1099).isEmpty)
        #expect(sysctl.poll(at: 1100) == [2])
        #expect(sysctl.read(0x10, size: 4) == 0)                  // ENABLE cleared
        clock.now = 5000
        #expect(sysctl.read(0x18, size: 4) == 1000)               // stays at COMPARE
        #expect(sysctl.poll(at: 9000).isEmpty && sysctl.nextEvent == nil)
    }

    @Test func autorestartTimerHitsEveryPeriodOnLine3() {
        let clock = Clock()
        let sysctl = SystemController(clock: { clock.now })
        #expect(sysctl.write(0x24, size: 4, value: 10))
        #expect(sysctl.write(0x20, size: 4, value: 3))            // ENABLE | AUTORESTART at cycle 0
        #expect(sysctl.poll(at: 35) == [3, 3, 3])                 // hits at 10, 20, 30
        clock.now = 35
        #expect(sysctl.read(0x28, size: 4) == 5)
        #expect(sysctl.nextEvent == 40)
        #expect(sysctl.write(0x20, size: 4, value: 0))            // stop: the counter freezes
        clock.now = 90
        #expect(sysctl.read(0x28, size: 4) == 5 && sysctl.nextEvent == nil)
    }
}
