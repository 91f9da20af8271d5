import Correlation
import Foundation
import MPUAsm
import MPUSim
import TestSupport
import Synth
import Testing

/// Runs every shipped automaton of the sweep over one page; returns "automaton/ALERT" for each
/// structure alert (operands and follow-up requests are read as the correlation reads them).
func alerts(on page: Page, at address: UInt64 = 0x7000) -> [String] {
    var out: [String] = []
    let mpu = MPU()
    page.bytes.withUnsafeBytes { bytes in
        for automaton in shipped where !automaton.metadata.followUpOnly {
            var raised: [Alert] = []
            let result = mpu.run(automaton, page: bytes.baseAddress!, pageAddress: address, alerts: &raised)
            #expect(result.fault == nil, "\(automaton.name): \(String(describing: result.fault))")
            let claims = RunClaims(values: raised.map(\.value), metadata: automaton.metadata)
            out += claims.alerts.map { "\(automaton.name)/\($0.name ?? "?")" }
        }
    }
    return out.sorted()
}

@Suite struct NearMissTests {
    static let hostPages: UInt64 = 1 << 24

    @Test func eachStructureRaisesExactlyItsAlerts() {
        var random = SplitMix64(seed: 3)
        let table = Pages.eptPageTable(&random, hostPages: Self.hostPages)
        #expect(alerts(on: table) == ["ept/EPT_PT"])
        #expect(alerts(on: Pages.eptIdentityTable(base: 0x4020_0000, &random)) == ["ept-identity/EPT_IDENTITY_PT", "ept/EPT_PT"])
        #expect(alerts(on: Pages.eptDirectory(pointers: [0x1000, 0x2000], largeLeaves: 2, &random, hostPages: Self.hostPages)) == ["ept/EPT_PD"])
        #expect(alerts(on: Pages.eptDirectory(pointers: [0x1000, 0x2000], largeLeaves: 0, &random, hostPages: Self.hostPages)) == ["ept/EPT_NONLEAF"])
        #expect(alerts(on: Pages.eptGigabyteTable(gigabytes: 2, pointers: [0x1000])) == ["ept/EPT_PDPT"])
        #expect(alerts(on: Pages.vmcs(.vmcs12, eptRoot: 0x5000, hostRoot: 0x6000, &random)) == ["vmcs/VMCS12_KVM"])
        #expect(alerts(on: Pages.vmcs(.haswell, eptRoot: 0x5000, hostRoot: 0x6000, &random)) == ["vmcs/VMCS_HASWELL"])
        #expect(alerts(on: Pages.vmxon(revision: 0x10)) == ["vmcs/VMXON"])
        #expect(alerts(on: Pages.vmcs(.unknown, eptRoot: 0x5000, hostRoot: 0x6000, &random)) == ["vmcs-generic/VMCS_GENERIC"])
        #expect(alerts(on: Pages.linuxIDT(&random)) == ["idt/IDT64"])
        #expect(alerts(on: Pages.windowsIDT(&random)) == ["idt/IDT64"])
        #expect(alerts(on: Pages.linuxPML4(process: true, &random, hostPages: Self.hostPages)) == ["pml4/PML4"])
        #expect(alerts(on: Pages.windowsPML4(at: 0x7000, &random, hostPages: Self.hostPages), at: 0x7000) == ["pml4/PML4_SELFREF"])
    }

    @Test func ordinaryPagesRaiseNothing() {
        var random = SplitMix64(seed: 4)
        #expect(alerts(on: Page()).isEmpty)                                   // all zero
        for _ in 0..<20 {
            #expect(alerts(on: Pages.random(&random)).isEmpty)
            #expect(alerts(on: Pages.text(&random)).isEmpty)
            #expect(alerts(on: Pages.codeLike(&random)).isEmpty)
            #expect(alerts(on: Pages.heap(&random)).isEmpty)
            #expect(alerts(on: Pages.linuxKernelPageTable(&random, hostPages: Self.hostPages)).isEmpty)
        }
        // A page of one repeated word, for words each automaton likes.
        for word: UInt64 in [0x1234_5077, 0x1234_5007, 0x1234_50f7 & ~0x1f_f000, 0x0000_0001_2345_6063, 0x0000_0001_2345_6067,
                             0xffff_ffff_ffff_ffff, 0x81a0_8e00_0010_1000, 0x12] {
            #expect(alerts(on: Pages.repeated(word)).isEmpty, "repeated 0x\(String(word, radix: 16))")
        }
    }

    /// Valid-looking structures with one reserved bit set.
    @Test func oneReservedBitSpoilsEachStructure() {
        var random = SplitMix64(seed: 5)
        for _ in 0..<20 {
            var table = Pages.eptPageTable(&random, hostPages: Self.hostPages)
            let slot = 8 * Int(2 + random.below(500))
            table.set64(slot, (table.get64(slot) | 0x77) | 1 << UInt64(46 + random.below(6)))   // MAXPHYADDR..51
            #expect(alerts(on: table).isEmpty)

            var directory = Pages.eptDirectory(pointers: [0x1000, 0x2000, 0x3000], largeLeaves: 0, &random, hostPages: Self.hostPages)
            directory.set64(8, directory.get64(8) | 1 << UInt64(3 + random.below(4)))            // bits 3-6 of a pointer
            #expect(alerts(on: directory).isEmpty)

            var idt = Pages.linuxIDT(&random)
            let gate = 16 * Int(random.below(256))
            idt.bytes[gate + 5] |= 0x10                                                       // byte 5 bit 4
            #expect(alerts(on: idt).isEmpty)

            var pml4 = Pages.linuxPML4(process: true, &random, hostPages: Self.hostPages)
            pml4.set64(273 * 8, pml4.get64(273 * 8) | 0x80)                                   // PS in a PML4E
            #expect(alerts(on: pml4).isEmpty)
        }
    }
}

@Suite struct ExtraRevisionTests {
    /// `-D EXTRA_REVISION` teaches the vmcs automaton one more revision (Haswell's offsets
    /// unless others are given).
    @Test func definedRevisionIsReportedAsExtra() throws {
        let source = try String(contentsOf: packageRoot.appendingPathComponent("automata/vmcs.s"), encoding: .utf8)
        var random = SplitMix64(seed: 9)
        let page = Pages.vmcs(.unknown, eptRoot: 0x5000, hostRoot: 0x6000, &random)   // revision 0x4, Haswell offsets
        func alertNames(_ definitions: [Definition]) throws -> [String] {
            let image = try #require(MPUAssembler.assemble(source: source, name: "vmcs.s", options: AssemblerOptions(definitions: definitions)).image)
            let automaton = Automaton(image: image)
            var alerts: [Alert] = []
            _ = page.bytes.withUnsafeBytes { MPU().run(automaton, page: $0.baseAddress!, pageAddress: 0, alerts: &alerts) }
            return RunClaims(values: alerts.map(\.value), metadata: automaton.metadata).alerts.map { $0.name ?? "?" }
        }
        #expect(try alertNames([]).isEmpty)
        #expect(try alertNames([Definition(name: "EXTRA_REVISION", value: 4)]) == ["VMCS_EXTRA"])
        // Wrong offsets for this page: the link pointer is not where they say.
        #expect(try alertNames([Definition(name: "EXTRA_REVISION", value: 4), Definition(name: "EXTRA_LINK", value: 176)]).isEmpty)
    }
}
