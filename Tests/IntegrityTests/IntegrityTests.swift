import Foundation
import Integrity
import Testing

/// The verdict rules (docs/integrity.md) on states written by hand: each verdict, each change
/// a real hypervisor makes legitimately, and each kind of bad state file.
@Suite struct IntegrityTests {
    static let map: [[UInt64]] = [[0, 0x1000_0000]]
    static let rip: UInt64 = 0xffff_ffff_c035_144e

    static func vmcs(_ page: UInt64, ept: UInt64, live: Bool = true, digest: UInt64 = 1, _ changes: [String: UInt64] = [:]) -> VMCSRecord {
        var fields: [String: UInt64] = ["EPT_POINTER": ept | 0x5e, "HOST_RIP": rip, "HOST_RSP": 0xffff_c900_0064_3bb0,
                                        "HOST_CR3": 0x61ec_001, "HOST_CR4": 0x3726f0, "CPU_BASED_VM_EXEC_CONTROL": 0xb598_6dfa,
                                        "VPID": page >> 12]
        fields.merge(changes) { $1 }
        return VMCSRecord(page: page, layout: "VMCS_BOCHS", revision: 0x2b, live: live, fields: fields, contentDigest: digest)
    }

    /// A code page of `nop`-padded code with `bytes` at `offset`.
    static func code(_ bytes: [UInt8] = [], at offset: Int = 0x44e, physical: UInt64 = 0x646_8000) -> CodePage {
        var page = [UInt8](repeating: 0x90, count: 4096)
        page.replaceSubrange(0x44e..<0x453, with: [0x50, 0x48, 0x8b, 0x44, 0x24])   // vmx_vmexit: push %rax; mov ...
        page.replaceSubrange(0x600..<0x605, with: [0x0f, 0x1f, 0x44, 0x00, 0x00])   // a 5-byte jump-label site
        page.replaceSubrange(0x700..<0x702, with: [0x66, 0x90])                     // a 2-byte one
        page.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        return CodePage(virtual: rip & ~0xfff, physical: physical, bytes: Data(page))
    }

    static func state(_ records: [VMCSRecord]?, vmxon: [UInt64] = [0x649_f000], code: [CodePage] = [code()], map: [[UInt64]] = map) -> HostState {
        HostState(memoryMap: map, hypervisor: records.map { Hypervisor(vmxon: vmxon, vmcs: $0, code: code) })
    }

    static let twoVCPUs = [vmcs(0x64b_7000, ept: 0x64d_e000), vmcs(0x667_7000, ept: 0x64d_e000)]

    func check(_ baseline: HostState, _ current: HostState) throws -> [Verdict] {
        try IntegrityCheck().verdicts(baseline: baseline, current: current)
    }

    func kinds(_ verdicts: [Verdict]) -> [String] { verdicts.map(\.kind.rawValue) }

    @Test func theSameStateIsUnchanged() throws {
        let verdicts = try check(Self.state(Self.twoVCPUs), Self.state(Self.twoVCPUs))
        #expect(kinds(verdicts) == ["unchanged", "unchanged"])
        #expect(verdicts[1].subject == .vm(eptRoot: 0x64d_e000))
        #expect(!verdicts.contains { $0.kind.suspicious })
    }

    /// Guest state, HOST_RSP, the PCID in HOST_CR3 and the control bits KVM toggles as a VM
    /// runs change; none of it is a change of the hypervisor.
    @Test func whatARunningVMChangesIsEvolution() throws {
        let later = [Self.vmcs(0x64b_7000, ept: 0x64d_e000, digest: 2, ["HOST_RSP": 0xffff_c900_0064_3c10, "HOST_CR3": 0x61ec_005]),
                     Self.vmcs(0x667_7000, ept: 0x64d_e000, digest: 3, ["CPU_BASED_VM_EXEC_CONTROL": 0xb598_6dfa | 1 << 2 | 1 << 22])]
        let verdicts = try check(Self.state(Self.twoVCPUs), Self.state(later))
        #expect(kinds(verdicts) == ["evolved", "evolved"])
    }

    @Test func aHostFieldOrAStaticControlThatChangesIsModified() throws {
        for (field, value) in [("HOST_CR4", UInt64(0x3626f0)), ("HOST_RIP", Self.rip + 0x1000), ("CPU_BASED_VM_EXEC_CONTROL", UInt64(0xb598_6dfa) & ~(1 << 28)),
                               ("VPID", 9), ("HOST_CR3", 0x7000_001)] {
            let later = [Self.vmcs(0x64b_7000, ept: 0x64d_e000, digest: 2, [field: value]), Self.twoVCPUs[1]]
            let verdicts = try check(Self.state(Self.twoVCPUs), Self.state(later))
            #expect(kinds(verdicts) == ["modified", "modified"], "\(field)")
            #expect(verdicts[0].evidence.contains { $0.hasPrefix("VMCS 0x64b7000: \(field) ") }, "\(verdicts[0].evidence)")
            #expect(verdicts[0].kind.suspicious)
        }
    }

    /// Linux patches jump-label sites when the first VM starts or the last stops: `66 90` <->
    /// `eb xx` and `0f 1f 44 00 00` <-> `e9 rel32`, at the same place.
    @Test func jumpLabelSitesMaySwitchNothingElse() throws {
        for (bytes, offset) in [([UInt8]([0xeb, 0x05]), 0x700), ([0xe9, 0x10, 0x02, 0x00, 0x00], 0x600)] {
            let verdicts = try check(Self.state(Self.twoVCPUs), Self.state(Self.twoVCPUs, code: [Self.code(bytes, at: offset)]))
            #expect(kinds(verdicts).first == "evolved", "\(bytes)")
            #expect(verdicts[0].evidence.contains { $0.contains("jump-label site switched") })
            // ... and back
            let back = try check(Self.state(Self.twoVCPUs, code: [Self.code(bytes, at: offset)]), Self.state(Self.twoVCPUs))
            #expect(kinds(back).first == "evolved")
        }
        // A jmp hook over code that was not a jump-label site: the lab's patch of vmx_vmexit.
        let hooked = try check(Self.state(Self.twoVCPUs), Self.state(Self.twoVCPUs, code: [Self.code([0xe9, 0xfb, 0x00, 0x00, 0x00])]))
        #expect(kinds(hooked).first == "modified")
        #expect(hooked[0].evidence == ["code 0xffffffffc035144e (physical 0x646844e), 5 bytes: 90 90 90 90 50 48 8b 44 24 90 90 90 90 -> 90 90 90 90 e9 fb 00 00 00 90 90 90 90"])
        // A 2-byte site's jmp written over a 5-byte site is not a switch of either.
        let wrong = try check(Self.state(Self.twoVCPUs), Self.state(Self.twoVCPUs, code: [Self.code([0xeb, 0x05, 0x90, 0x90, 0x90], at: 0x600)]))
        #expect(kinds(wrong).first == "modified")
    }

    @Test func hostStateOrCodeAtANewPlaceIsRelocated() throws {
        let moved = try check(Self.state(Self.twoVCPUs), Self.state(Self.twoVCPUs, vmxon: [0x700_0000]))
        #expect(kinds(moved).first == "relocated" && moved[0].evidence == ["VMXON region 0x649f000 -> 0x7000000"])
        let copied = try check(Self.state(Self.twoVCPUs), Self.state(Self.twoVCPUs, code: [Self.code(physical: 0x800_0000)]))
        #expect(kinds(copied).first == "relocated")
        // A new VM whose VM exits go somewhere else.
        let elsewhere = Self.twoVCPUs + [Self.vmcs(0x652_2000, ept: 0x666_0000, ["HOST_RIP": 0xffff_ffff_c100_0000])]
        let verdicts = try check(Self.state(Self.twoVCPUs), Self.state(elsewhere))
        #expect(kinds(verdicts) == ["relocated", "unchanged", "new-vm"])
    }

    @Test func vmsComeAndGo() throws {
        let second = [Self.vmcs(0x652_2000, ept: 0x666_0000), Self.vmcs(0x652_7000, ept: 0x666_0000)]
        let added = try check(Self.state(Self.twoVCPUs), Self.state(Self.twoVCPUs + second))
        #expect(kinds(added) == ["evolved", "unchanged", "new-vm"])
        // The first VM destroyed: its VMCS left behind with the launch state clear.
        let stale = Self.twoVCPUs.map { Self.vmcs($0.page, ept: 0x64d_e000, live: false) }
        let removed = try check(Self.state(Self.twoVCPUs + second), Self.state(stale + second))
        #expect(kinds(removed) == ["evolved", "vm-removed", "unchanged"])
        #expect(removed[1].evidence == ["the VMCS at 0x64b7000 is no longer launched (cleared)", "the VMCS at 0x6677000 is no longer launched (cleared)"])
        // No VMCS live any more: disabled.
        let none = try check(Self.state(second), Self.state(stale))
        #expect(kinds(none) == ["disabled", "vm-removed"] && none[0].kind.suspicious)
        // Nothing of it left at all; its code read again where it was, unchanged.
        let left = HostState(memoryMap: Self.map, hypervisor: nil, dormantCode: [Self.code()])
        let gone = try check(Self.state(second), left)
        #expect(kinds(gone) == ["disabled", "vm-removed"])
        #expect(gone[0].evidence == ["the baseline had VMXON at 0x649f000, 2 VMCS (2 live) in 1 VM; no VMXON region or VMCS is left"])
        // ... or the module unloaded too: still disabled, the code's absence in the evidence.
        let unloaded = try check(Self.state(second), Self.state(nil))
        #expect(kinds(unloaded) == ["disabled", "vm-removed"] && unloaded[0].evidence.last == "1 code page no longer mapped executable: 0xffffffffc0351000")
    }

    @Test func aHypervisorArrives() throws {
        let verdicts = try check(Self.state(nil), Self.state(Self.twoVCPUs))
        #expect(kinds(verdicts) == ["new-hypervisor", "new-vm"] && verdicts[0].kind.suspicious)
        #expect(kinds(try check(Self.state(nil), Self.state(nil))) == ["no-hypervisor"])
    }

    /// KVM leaves VMX operation when its last VM stops: the code it ran is still compared.
    @Test func codeChangedWhileNoVMRanIsModified() throws {
        let dormant = HostState(memoryMap: Self.map, hypervisor: nil, dormantCode: [Self.code()])
        #expect(kinds(try check(dormant, dormant)) == ["no-hypervisor"])
        let hooked = HostState(memoryMap: Self.map, hypervisor: nil, dormantCode: [Self.code([0xe9, 0xfb, 0, 0, 0])])
        #expect(kinds(try check(dormant, hooked)) == ["modified"])
        let unloaded = HostState(memoryMap: Self.map, hypervisor: nil, dormantCode: [])
        let verdicts = try check(dormant, unloaded)
        #expect(kinds(verdicts) == ["no-hypervisor"] && verdicts[0].evidence.last == "1 code page no longer mapped executable: 0xffffffffc0351000")
    }

    @Test func badStatesAreErrorsNotVerdicts() throws {
        let good = Self.state(Self.twoVCPUs).json()
        #expect(try HostState(json: good) == Self.state(Self.twoVCPUs))
        #expect(throws: StateError.self) { try HostState(json: good.prefix(good.count / 2)) }
        var other = Self.state(Self.twoVCPUs)
        other.version = 2
        #expect(throws: StateError.otherVersion(2)) { try HostState(json: other.json()) }
        #expect(throws: StateError.notAState) { try HostState(json: Data("{\"pages\": 3}".utf8)) }
        let error = try #require(throws: StateError.self) {
            try IntegrityCheck().verdicts(baseline: Self.state(Self.twoVCPUs), current: Self.state(Self.twoVCPUs, map: [[0, 0x2000_0000]]))
        }
        #expect(error.description == "the state is of another host: its memory map has 1 ranges (0x0+0x10000000), this dump's 1 (0x0+0x20000000)")
    }
}
