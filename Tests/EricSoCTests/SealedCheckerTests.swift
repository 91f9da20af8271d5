import EricSoC
import MPUAsm
import MPUISA
import MPUSim
import Sealing
import Testing

/// Sealed automata in the checker (docs/security.md): a committed bundle is installed whole or
/// not at all, its code is ciphertext on the bus, and taken jumps pay the decryption.
@Suite struct SealedCheckerTests {
    final class Clock: @unchecked Sendable { var now: UInt64 = 0 }
    static let keyBytes: [UInt8] = (0..<32).map { UInt8($0 * 7 & 0xff) }
    static let key = try! DeviceKey(bytes: keyBytes)
    static let other = try! DeviceKey(bytes: [UInt8](repeating: 0xa5, count: 32))

    /// Two taken jumps, one alert: jmp a (taken), skipped int 9, a: int 5, jmp b (taken), b: end.
    static let jumps = MPUAssembler.assemble(source: """
        .automaton "jumps"
        .alert FIVE, 5, "five"
            jmp $a
            intb $9
        a:  intb $5
            jmp $b
        b:  intq r0
        """).image!
    /// One alert, no jump.
    static let straight = MPUAssembler.assemble(source: """
        .automaton "straight"
        .alert SIX, 6, "six"
            intb $6
            intq r0
        """).image!

    static func checker() -> (Checker, Clock) {
        let clock = Clock()
        // Not zero pages: on them the zero-page flag would skip the runs (docs/timing.md).
        let host = BufferMemory([(physicalStart: 0x10_0000, bytes: [UInt8](repeating: 1, count: 8192))])
        let checker = Checker(host: host, key: key, clock: { clock.now })
        #expect(checker.write(0x10, size: 4, value: 0x10_1000))
        return (checker, clock)
    }

    static func words(_ bytes: [UInt8]) -> [UInt32] {
        stride(from: 0, to: bytes.count, by: 4).map { at in (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(at + $1 < bytes.count ? bytes[at + $1] : 0) } }
    }

    /// What the firmware does with a received bundle: its words into the buffer, then COMMIT.
    static func commit(_ bundle: [UInt8], to checker: Checker) -> UInt32? {
        #expect(checker.write(0xb0, size: 4, value: 0))
        for word in words(bundle) { #expect(checker.write(0xb4, size: 4, value: word)) }
        #expect(checker.write(0xb8, size: 4, value: UInt32(bundle.count)))
        return checker.read(0xbc, size: 4)
    }

    /// START_LIST on the page; the alert values (with their ALERT_NAME) and the MPU cycles.
    static func sweep(_ checker: Checker, _ clock: Clock) -> (alerts: [[UInt32]], cycles: UInt32?) {
        #expect(checker.write(0x00, size: 4, value: 2))
        clock.now += 1_000_000
        var alerts: [[UInt32]] = []
        while checker.read(0x5c, size: 4)! > 0 {
            alerts.append([checker.read(0x24, size: 4)!, checker.read(0x8c, size: 4)!, checker.read(0xc4, size: 4)!])
            #expect(checker.write(0x2c, size: 4, value: 0))
        }
        #expect(checker.read(0x04, size: 4)! & Checker.done != 0)
        #expect(checker.write(0x04, size: 4, value: Checker.done))
        return (alerts, checker.read(0x30, size: 4))
    }

    static func bundle(version: UInt32, key: DeviceKey = key, images: [MPUImage] = [jumps, straight]) throws -> SealedBundle {
        try SealedBundle.seal(table: SoC.table(images).bytes, version: version, key: key)
    }

    @Test func aSealedSetRunsAsThePlainOneWithTheJumpsDecrypted() throws {
        // The same two automata loaded in clear, as the firmware loads the ROM's table.
        let (plain, plainClock) = Self.checker()
        let code = Self.jumps.code + Self.straight.code
        #expect(plain.write(0x1c, size: 4, value: 0))
        for word in Self.words(code) { #expect(plain.write(0x20, size: 4, value: word)) }
        for (index, slot) in [(0, Self.jumps.code.count), (Self.jumps.code.count, Self.straight.code.count)].enumerated() {
            #expect(plain.write(0x7c, size: 4, value: UInt32(index)) && plain.write(0x80, size: 4, value: UInt32(slot.0))
                    && plain.write(0x84, size: 4, value: 0) && plain.write(0x88, size: 4, value: UInt32(slot.1)))
        }
        #expect(plain.write(0x78, size: 4, value: 2))
        let clear = Self.sweep(plain, plainClock)

        let (sealed, clock) = Self.checker()
        #expect(sealed.read(0xac, size: 4) == 1)                       // a key is provisioned
        #expect(sealed.read(0xbc, size: 4) == 0xffff_ffff)             // no commit yet
        #expect(Self.commit(try Self.bundle(version: 3).bytes, to: sealed) == 0)
        #expect(sealed.read(0xc0, size: 4) == 3 && sealed.read(0x78, size: 4) == 2 && sealed.read(0x98, size: 4) == 2)
        let run = Self.sweep(sealed, clock)
        // Values and sources as in clear; ALERT_NAME from the sealed table (index 0 of each).
        #expect(clear.alerts.map { Array($0.prefix(2)) } == [[5, 0], [6, 1]])
        #expect(run.alerts == [[5, 0, 0], [6, 1, 0]])
        // Two taken jumps, 14 cycles each (docs/timing.md); nothing else changes.
        #expect(run.cycles == clear.cycles.map { $0 + 2 * 14 })
    }

    @Test func theBusSeesCiphertextNeverTheKeyOrTheCode() throws {
        let (checker, _) = Self.checker()
        #expect(Self.commit(try Self.bundle(version: 1).bytes, to: checker) == 0)
        // Program memory read back through PROGRAM_DATA, as the LM32 or a debugger would.
        #expect(checker.write(0x1c, size: 4, value: 0))
        let code = Self.jumps.code + Self.straight.code
        let readBack = (0..<(code.count / 4)).flatMap { _ -> [UInt8] in
            let word = checker.read(0x20, size: 4)!
            return (0..<4).map { UInt8(truncatingIfNeeded: word >> UInt32(24 - 8 * $0)) }
        }
        #expect(readBack.count == code.count && readBack != code)
        // Every register of the checker's window: no word of the key or of the code.
        let secrets = Set(Self.words(Self.keyBytes) + Self.words(code)).subtracting([0])
        for offset in stride(from: UInt32(0), to: 0x1000, by: 4) where offset != 0x20 {
            if let value = checker.read(offset, size: 4) { #expect(!secrets.contains(value), "register 0x\(String(offset, radix: 16))") }
        }
        // And the LM32 may not replace the sealed code.
        #expect(checker.write(0x1c, size: 4, value: 0) && checker.write(0x20, size: 4, value: 0))
        #expect(checker.read(0x04, size: 4)! & Checker.error != 0)
    }

    @Test func refusedBundlesLeaveTheRunningSetInPlace() throws {
        let (checker, clock) = Self.checker()
        #expect(Self.commit(try Self.bundle(version: 5).bytes, to: checker) == 0)
        let before = Self.sweep(checker, clock)
        let newer = try Self.bundle(version: 6, images: [Self.straight])
        var tampered = newer.bytes
        tampered[50] ^= 0x80
        let refused: [(bytes: [UInt8], code: UInt32)] = [
            (tampered, 3),                                                          // changed on the way
            (try Self.bundle(version: 5, images: [Self.straight]).bytes, 4),        // not newer
            (try Self.bundle(version: 9, key: Self.other, images: [Self.straight]).bytes, 2),  // another board's
            (Array(newer.bytes.dropLast(5)), 1),                                    // cut short
        ]
        for (bytes, code) in refused {
            #expect(Self.commit(bytes, to: checker) == code)
            #expect(checker.read(0xc0, size: 4) == 5)
            #expect(Self.sweep(checker, clock).alerts == before.alerts)
        }
        // The newer one, whole, replaces it.
        #expect(Self.commit(newer.bytes, to: checker) == 0)
        #expect(checker.read(0xc0, size: 4) == 6)
        #expect(Self.sweep(checker, clock).alerts == [[6, 0, 0]])
    }

    @Test func aBoardWithoutAKeyTakesNoBundle() throws {
        let clock = Clock()
        let checker = Checker(host: BufferMemory([(physicalStart: 0, bytes: [UInt8](repeating: 0, count: 4096))]), clock: { clock.now })
        #expect(checker.read(0xac, size: 4) == 0)
        #expect(Self.commit(try Self.bundle(version: 1).bytes, to: checker) == 6)
    }
}
