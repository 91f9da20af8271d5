import Crypto
import MPUSim
import Sealing

/// Sealed automata in the checker (docs/security.md, docs/soc.md "Sealed automata").
///
/// The device key is provisioned into the checker when the board is made (`Checker(key:)`,
/// `SoC.Configuration.key`, as an eFuse or a key store would): no register, bus master or debugger can read it. The
/// firmware writes a bundle's bytes, as received, into the checker's bundle buffer and commits
/// it; the checker opens it (AES-256-GCM, key identifier, version), and only if all of it holds
/// installs the set itself: program memory then holds the code encrypted under a key of this
/// load (AES-256 in counter mode, the counter being the block's address, so that the MPU
/// decrypts each instruction as it fetches it), and the list, the follow rules and the alert
/// names are set from the table. Anything else leaves the running set in place.
struct SealingState {
    var key: DeviceKey?
    var bundle: [UInt8] = []
    var bundleAddress: UInt32 = 0
    /// BUNDLE_RESULT: 0 installed, a `SealedBundle.Refusal` code, 5 busy, 6 no key, 7 the table
    /// inside is not one the checker can hold; `noResult` before any commit.
    var result: UInt32 = SealingState.noResult
    var version: UInt32 = 0
    /// The program-memory encryption of the set in place: nil while program memory is plain.
    var programNonce: AES.GCM.Nonce?
    var programKey: SymmetricKey?
    /// Per list slot, the alert values of its `.alert` names (for ALERT_NAME).
    var alertNames: [[UInt32]] = []
    /// The record tagger (RECORD_DATA, RECORD_TAG; docs/soc.md): the key derived for records,
    /// this boot's nonce, the words written since the last tag, and the tag being read out.
    var authenticator: RecordAuthenticator?
    /// The request checker (REQUEST_TAG, REQUEST_VALID): the key derived for a verifier's
    /// evidence requests, and the tag written for the words in RECORD_DATA.
    var requestAuthenticator: RecordAuthenticator?
    var requestTag: [UInt8] = [UInt8](repeating: 0, count: 16)
    var bootNonce: UInt64 = 0
    var recordMessage: [UInt8] = []
    var recordOutput: [UInt32] = []

    /// The most a record to tag may hold: a longer message is cut off and flags ERROR.
    static let recordMessageLimit = 2048
    static let noResult: UInt32 = 0xffff_ffff
    static let busyResult: UInt32 = 5, noKeyResult: UInt32 = 6, badTableResult: UInt32 = 7
}

extension Checker {
    /// MPU cycles a taken jump loses to the decryption when program memory is sealed: the
    /// counter-mode keystream of the target's block comes out of a pipelined AES-256 core after
    /// its 14 rounds (docs/timing.md). Straight-line fetches are decrypted ahead and cost nothing;
    /// a run's first block is decrypted while its page crosses PCIe.
    public static let sealedJumpCycles = 14

    /// Whether program memory holds a sealed set.
    public var isSealed: Bool { sealing.programNonce != nil }
    /// The installed set's version (0: none).
    public var sealedVersion: UInt32 { sealing.version }

    /// The timing runs use: with sealed program memory, taken jumps wait for the decryption.
    var runTiming: TimingModel {
        guard isSealed else { return timing }
        var model = timing
        model.takenJumpPenalty += Self.sealedJumpCycles
        return model
    }

    /// Code bytes `start..<end` of program memory as the MPU's fetch sees them: decrypted when
    /// sealed (the simulation decrypts the span at once; the device decrypts each fetch).
    func fetchedCode(_ start: Int, _ end: Int) -> [UInt8] {
        guard end > start else { return [] }
        guard let nonce = sealing.programNonce, let key = sealing.programKey else { return Array(program[start..<end]) }
        return Array(counterMode(program, nonce: nonce, key: key)[start..<end])
    }

    /// AES-256 in counter mode over all of program memory (GCM's encryption, whose tag is not
    /// used): applied to plaintext it encrypts, to ciphertext it decrypts.
    func counterMode(_ bytes: [UInt8], nonce: AES.GCM.Nonce, key: SymmetricKey) -> [UInt8] {
        Array(try! AES.GCM.seal(bytes, using: key, nonce: nonce).ciphertext)
    }

    func readSealing(_ offset: UInt32) -> UInt32? {
        switch offset {
        case 0xac: return sealing.key == nil ? 0 : 1
        case 0xb0: return sealing.bundleAddress
        case 0xb4: return 0   // the buffer is write-only
        case 0xb8: return 0
        case 0xbc: return sealing.result
        case 0xc0: return sealing.version
        case 0xc4: return alertNameOfOldest
        case 0xc8: return 0   // write-only, as the key
        case 0xcc: return nextRecordTagWord()
        case 0x100, 0x104, 0x108, 0x10c: return 0   // write-only
        case 0x110: return checkRequest()
        default: return nil
        }
    }

    func writeSealing(_ offset: UInt32, value: UInt32) -> Bool {
        switch offset {
        case 0xac, 0xbc, 0xc0, 0xc4, 0xcc, 0x110: break   // read-only: no register takes a key
        case 0x100, 0x104, 0x108, 0x10c:
            let at = Int(offset - 0x100)
            for k in 0..<4 { sealing.requestTag[at + k] = UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * k)) }
        case 0xb0: sealing.bundleAddress = min(value & ~3, UInt32(SealedBundle.maximumSize))
        case 0xb4:
            let at = Int(sealing.bundleAddress)
            guard at + 4 <= SealedBundle.maximumSize else { status |= Self.error; break }
            if sealing.bundle.count < at + 4 { sealing.bundle += [UInt8](repeating: 0, count: at + 4 - sealing.bundle.count) }
            for k in 0..<4 { sealing.bundle[at + k] = UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * k)) }
            sealing.bundleAddress += 4
        case 0xb8: commitBundle(length: Int(value))
        case 0xc8:
            guard sealing.recordMessage.count + 4 <= SealingState.recordMessageLimit else { status |= Self.error; break }
            sealing.recordMessage += (0..<4).map { UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * $0)) }
            sealing.recordOutput = []
        default: return false
        }
        return true
    }

    /// RECORD_TAG: the first read after RECORD_DATA writes tags the words written (and starts
    /// the next message); it and the next five give the boot nonce (high word first) and the
    /// 16-byte tag, big-endian words. Without a key: zeros, and ERROR.
    func nextRecordTagWord() -> UInt32 {
        if sealing.recordOutput.isEmpty {
            guard let authenticator = sealing.authenticator else { status |= Self.error; return 0 }
            let nonce = sealing.bootNonce
            let tag = authenticator.tag(bootNonce: nonce, body: sealing.recordMessage)
            sealing.recordMessage.removeAll()
            sealing.recordOutput = [UInt32(truncatingIfNeeded: nonce >> 32), UInt32(truncatingIfNeeded: nonce)]
                + stride(from: 0, to: tag.count, by: 4).map { at in tag[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
            // Read out in order: the first word is taken below.
            sealing.recordOutput.reverse()
        }
        return sealing.recordOutput.popLast() ?? 0
    }

    /// REQUEST_VALID: whether the tag written to REQUEST_TAG_0-3 is that of the words written to
    /// RECORD_DATA under the request key and this boot's nonce (docs/protocol.md, "Evidence for
    /// a verifier"), compared in constant time; the words are consumed. Without a key: 0, as
    /// for a tag that does not hold: a board without a key answers no evidence request.
    func checkRequest() -> UInt32 {
        defer {
            sealing.recordMessage.removeAll()
            sealing.recordOutput = []
        }
        guard let authenticator = sealing.requestAuthenticator else { return 0 }
        return authenticator.verify(bootNonce: sealing.bootNonce, body: sealing.recordMessage, tag: sealing.requestTag) ? 1 : 0
    }

    /// ALERT_NAME: the oldest value's index among its automaton's `.alert` values in the sealed
    /// set, 0xffff when it has none (or the set is not sealed: the firmware knows the ROM's).
    var alertNameOfOldest: UInt32 {
        guard let oldest = fifo.first, Int(oldest.source) < sealing.alertNames.count,
              let index = sealing.alertNames[Int(oldest.source)].firstIndex(of: UInt32(truncatingIfNeeded: oldest.value)) else { return 0xffff }
        return UInt32(index)
    }

    /// BUNDLE_COMMIT: the first `length` bytes of the buffer are a bundle; open it and install
    /// its set whole, or leave everything as it was and say why in BUNDLE_RESULT.
    func commitBundle(length: Int) {
        defer {
            sealing.bundle.removeAll()
            sealing.bundleAddress = 0
        }
        guard !running else { sealing.result = SealingState.busyResult; return }
        guard let key = sealing.key else { sealing.result = SealingState.noKeyResult; return }
        var bytes = Array(sealing.bundle.prefix(max(0, length)))
        if bytes.count < length { bytes += [UInt8](repeating: 0, count: min(length, SealedBundle.maximumSize) - bytes.count) }
        let table: AutomataTable
        do {
            let plain = try SealedBundle(bytes: bytes).open(key: key, loadedVersion: sealing.version)
            table = try AutomataTable(parsing: plain)
        } catch let refusal as SealedBundle.Refusal {
            sealing.result = refusal.code
            return
        } catch {
            sealing.result = SealingState.badTableResult
            return
        }
        install(table, version: SealedBundle(bytes: bytes).version, key: key)
        sealing.result = 0
    }

    /// Lays the table's code out from address 0, encrypts program memory under a key of this
    /// load, and sets the list, the catalog, the follow rules and the alert names.
    func install(_ table: AutomataTable, version: UInt32, key: DeviceKey) {
        var plain = [UInt8](repeating: 0, count: Self.programBytes)
        var base = 0
        var slots: [Slot] = []
        for entry in table.entries {
            plain.replaceSubrange(base..<base + entry.code.count, with: entry.code)
            slots.append(Slot(base: UInt32(base), entry: entry.entry, length: UInt32(entry.code.count)))
            base += entry.code.count
        }
        let nonce = AES.GCM.Nonce()
        let programKey = key.programMemoryKey(version: version)
        program = counterMode(plain, nonce: nonce, key: programKey)
        sealing.programNonce = nonce
        sealing.programKey = programKey
        sealing.version = version
        sealing.alertNames = table.entries.map(\.alerts)
        for (index, slot) in slots.enumerated() { list[index] = slot }
        listCount = UInt32(table.sweepCount)
        catalogCount = UInt32(table.entries.count)
        followRules = table.entries.flatMap(\.rules)
        forgetRunners(program: true)
    }
}
