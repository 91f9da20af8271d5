import Correlation
import Foundation

/// One verdict of a check: about the hypervisor, or about one VM (docs/integrity.md).
public struct Verdict: Equatable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case noHypervisor = "no-hypervisor", unchanged, evolved, newHypervisor = "new-hypervisor", newVM = "new-vm"
        case vmRemoved = "vm-removed", modified, disabled, relocated

        /// What a person should look at: exit status 1.
        public var suspicious: Bool { [.modified, .relocated, .disabled, .newHypervisor].contains(self) }
    }

    public enum Subject: Equatable, Sendable {
        case hypervisor
        /// A VM, named by the root of the EPT its vCPUs share.
        case vm(eptRoot: UInt64)
    }

    public var subject: Subject
    public var kind: Kind
    /// What was seen, one line each: which VMCS, which field from what to what, which bytes.
    public var evidence: [String]
}

/// Compares a host's state with its baseline: one verdict for the hypervisor, then one per VM
/// of either state.
public struct IntegrityCheck {
    public init() {}

    public func verdicts(baseline: HostState, current: HostState) throws(StateError) -> [Verdict] {
        guard baseline.memoryMap == current.memoryMap else {
            throw .otherHost("its memory map has \(baseline.memoryMap.count) ranges (\(Self.describe(baseline.memoryMap))), this dump's \(current.memoryMap.count) (\(Self.describe(current.memoryMap)))")
        }
        let dormant = CodeComparison(then: baseline.code, now: current.code)
        let lost = Self.missing(baseline.code, current.code)
        switch (baseline.hypervisor, current.hypervisor) {
        case (nil, nil):
            // Code that changed is modified; code no longer mapped is a hypervisor unloaded.
            if !dormant.modifications.isEmpty {
                return [Verdict(subject: .hypervisor, kind: .modified,
                                evidence: ["no VMX structure shows, but the code of the hypervisor last seen changed:"] + dormant.modifications + lost)]
            }
            return [Verdict(subject: .hypervisor, kind: .noHypervisor, evidence: ["no VMXON region or VMCS, then or now"]
                            + (baseline.code.isEmpty || !lost.isEmpty ? [] : ["the code of the hypervisor last seen (\(baseline.code.count) pages) is as it was"]) + lost)]
        case (nil, let now?):
            return [Verdict(subject: .hypervisor, kind: .newHypervisor,
                            evidence: ["none in the baseline; now " + Self.summary(now)])]
                + now.liveVMs.keys.sorted().map { Verdict(subject: .vm(eptRoot: $0), kind: .newVM, evidence: Self.vcpus(now.liveVMs[$0]!)) }
        case (let then?, nil):
            return [Verdict(subject: .hypervisor, kind: dormant.modifications.isEmpty ? .disabled : .modified,
                            evidence: ["the baseline had " + Self.summary(then) + "; no VMXON region or VMCS is left"] + dormant.modifications + lost)]
                + then.liveVMs.keys.sorted().map { Verdict(subject: .vm(eptRoot: $0), kind: .vmRemoved, evidence: ["its VMCS are gone"]) }
        case (let then?, let now?):
            return compare(then, now)
        }
    }

    func compare(_ then: Hypervisor, _ now: Hypervisor) -> [Verdict] {
        var vmVerdicts: [Verdict] = []
        let before = then.liveVMs, after = now.liveVMs
        let byPage = Dictionary(now.vmcs.map { ($0.page, $0) }, uniquingKeysWith: { first, _ in first })
        for root in Set(before.keys).union(after.keys).sorted() {
            switch (before[root], after[root]) {
            case (let old?, nil):
                let fate = old.map { record in
                    byPage[record.page].map { $0.live ? "the VMCS at \(hex(record.page)) now has another EPT" : "the VMCS at \(hex(record.page)) is no longer launched (cleared)" }
                        ?? "the VMCS at \(hex(record.page)) is gone"
                }
                vmVerdicts.append(Verdict(subject: .vm(eptRoot: root), kind: .vmRemoved, evidence: fate))
            case (nil, let new?):
                vmVerdicts.append(Verdict(subject: .vm(eptRoot: root), kind: .newVM, evidence: Self.vcpus(new)))
            case (let old?, let new?):
                vmVerdicts.append(compareVM(root, old, new))
            case (nil, nil):
                break
            }
        }
        var evidence: [String] = []
        let modifiedVMs = vmVerdicts.filter { $0.kind == .modified }
        evidence += modifiedVMs.flatMap(\.evidence)
        let codeChanges = CodeComparison(then: then.code, now: now.code)
        evidence += codeChanges.modifications
        var kind: Verdict.Kind
        if !evidence.isEmpty {
            kind = .modified
        } else if let moved = relocation(then, now, codeChanges) {
            kind = .relocated
            evidence = moved
        } else if !before.isEmpty && after.isEmpty {
            kind = .disabled
            evidence = ["no VMCS is live any more (the baseline had \(then.vmcs.filter(\.live).count))"]
        } else if vmVerdicts.allSatisfy({ $0.kind == .unchanged }) && codeChanges.tolerated.isEmpty && then.vmcs == now.vmcs {
            kind = .unchanged
            evidence = [Self.summary(now) + ", as in the baseline"]
        } else {
            kind = .evolved
            evidence = [Self.summary(now) + "; host state and code as in the baseline"] + codeChanges.tolerated
        }
        return [Verdict(subject: .hypervisor, kind: kind, evidence: evidence)] + vmVerdicts
    }

    /// A VM in both states: each of its VMCS compared field by field.
    func compareVM(_ root: UInt64, _ old: [VMCSRecord], _ new: [VMCSRecord]) -> Verdict {
        var modified: [String] = [], evolved = false
        let earlier = Dictionary(old.map { ($0.page, $0) }, uniquingKeysWith: { first, _ in first })
        for record in new {
            guard let previous = earlier[record.page] else { evolved = true; continue }
            for field in VMCSField.allCases where field != .hostRSP {
                guard let a = previous.fields[field.name], let b = record.fields[field.name] else { continue }
                var mask = ~field.dynamicBits
                if field == .hostCR3 { mask = RunClaims.addressMask }      // the PCID may change
                if a & mask != b & mask {
                    modified.append("VMCS \(hex(record.page)): \(field.name) \(hex(a)) -> \(hex(b))")
                }
            }
            if previous.revision != record.revision {
                modified.append("VMCS \(hex(record.page)): revision \(hex(UInt64(previous.revision))) -> \(hex(UInt64(record.revision)))")
            }
            if previous.contentDigest != record.contentDigest { evolved = true }
        }
        if old.count != new.count { evolved = true }
        if !modified.isEmpty { return Verdict(subject: .vm(eptRoot: root), kind: .modified, evidence: modified) }
        return Verdict(subject: .vm(eptRoot: root), kind: evolved ? .evolved : .unchanged,
                       evidence: [evolved ? "guest state or exit information changed; host state and controls as in the baseline" : "its VMCS as in the baseline"])
    }

    /// Host state or code at a new place: another VMXON region, another HOST_RIP, code pages
    /// at other physical addresses.
    func relocation(_ then: Hypervisor, _ now: Hypervisor, _ code: CodeComparison) -> [String]? {
        var moved: [String] = []
        if !then.vmxon.isEmpty && !now.vmxon.isEmpty && Set(then.vmxon) != Set(now.vmxon) {
            moved.append("VMXON region \(then.vmxon.map(hex).joined(separator: ", ")) -> \(now.vmxon.map(hex).joined(separator: ", "))")
        }
        let rips = { (h: Hypervisor) in Set(h.vmcs.compactMap { $0.fields["HOST_RIP"] }) }
        if !rips(then).isEmpty, !rips(now).isEmpty, !rips(now).isSubset(of: rips(then)) {
            moved.append("HOST_RIP \(rips(then).sorted().map(hex).joined(separator: ", ")) -> \(rips(now).sorted().map(hex).joined(separator: ", "))")
        }
        moved += code.moved
        return moved.isEmpty ? nil : moved
    }

    /// Code pages the baseline had that cannot be read now (unmapped, or no longer executable).
    static func missing(_ then: [CodePage], _ now: [CodePage]) -> [String] {
        let present = Set(now.map(\.virtual))
        let gone = then.filter { !present.contains($0.virtual) }
        return gone.isEmpty ? [] : ["\(gone.count) code page\(gone.count == 1 ? "" : "s") no longer mapped executable: \(gone.prefix(4).map { hex($0.virtual) }.joined(separator: ", "))\(gone.count > 4 ? ", ..." : "")"]
    }

    static func summary(_ h: Hypervisor) -> String {
        let live = h.vmcs.filter(\.live).count
        return "VMXON at \(h.vmxon.map(hex).joined(separator: ", ")), \(h.vmcs.count) VMCS (\(live) live) in \(h.liveVMs.count) VM\(h.liveVMs.count == 1 ? "" : "s")"
    }

    static func vcpus(_ records: [VMCSRecord]) -> [String] {
        records.map { "VMCS \(hex($0.page)) (\($0.layout))" + ($0.fields["VPID"].map { ", VPID \($0)" } ?? "") }
    }

    static func describe(_ map: [[UInt64]]) -> String {
        map.prefix(4).map { "\(hex($0.first ?? 0))+\(hex($0.last ?? 0))" }.joined(separator: ", ") + (map.count > 4 ? ", ..." : "")
    }
}

/// The hypervisor's code then and now, page by page (same virtual address): the bytes that
/// changed, less the jump-label sites Linux patches when the first VM starts or the last stops.
struct CodeComparison {
    var modifications: [String] = []
    var tolerated: [String] = []
    var moved: [String] = []

    static let nop2: [UInt8] = [0x66, 0x90], nop5: [UInt8] = [0x0f, 0x1f, 0x44, 0x00, 0x00]

    init(then: [CodePage], now: [CodePage]) {
        let earlier = Dictionary(then.map { ($0.virtual, $0) }, uniquingKeysWith: { first, _ in first })
        for page in now {
            guard let old = earlier[page.virtual] else { continue }
            if old.physical != page.physical {
                moved.append("code page \(hex(page.virtual)): physical \(hex(old.physical)) -> \(hex(page.physical))")
            }
            let a = [UInt8](old.bytes), b = [UInt8](page.bytes)
            guard a.count == b.count, a != b else { continue }
            var covered = [Bool](repeating: false, count: a.count)
            var sites: [Int] = []
            for i in a.indices where a[i] != b[i] && !covered[i] {
                if let site = Self.jumpLabel(covering: i, a, b) {
                    for k in site { covered[k] = true }
                    sites.append(site.lowerBound)
                }
            }
            var i = 0
            while i < a.count {
                guard a[i] != b[i], !covered[i] else { i += 1; continue }
                var end = i
                while end + 1 < a.count && a[end + 1] != b[end + 1] && !covered[end + 1] { end += 1 }
                modifications.append("code \(hex(page.virtual + UInt64(i))) (physical \(hex(page.physical + UInt64(i)))), \(end - i + 1) byte\(end == i ? "" : "s"): "
                                     + "\(Self.bytes(a[max(0, i - 4)..<min(a.count, end + 5)])) -> \(Self.bytes(b[max(0, i - 4)..<min(b.count, end + 5)]))")
                i = end + 1
            }
            if !sites.isEmpty {
                tolerated.append("code page \(hex(page.virtual)): \(sites.count) jump-label site\(sites.count == 1 ? "" : "s") switched (\(sites.map { hex(page.virtual + UInt64($0)) }.joined(separator: ", ")))")
            }
        }
    }

    /// The jump-label site that explains a changed byte at `i`: a 2-byte `66 90` <-> `eb xx` or
    /// a 5-byte `0f 1f 44 00 00` <-> `e9 rel32` at the same place, every other byte of the
    /// site as it may be.
    static func jumpLabel(covering i: Int, _ a: [UInt8], _ b: [UInt8]) -> Range<Int>? {
        for (nop, jump) in [(nop2, UInt8(0xeb)), (nop5, UInt8(0xe9))] {
            for start in max(0, i - nop.count + 1)...i where start + nop.count <= a.count {
                let site = start..<start + nop.count
                if (Array(a[site]) == nop && b[start] == jump) || (Array(b[site]) == nop && a[start] == jump) { return site }
            }
        }
        return nil
    }

    static func bytes(_ slice: ArraySlice<UInt8>) -> String {
        slice.map { String(format: "%02x", $0) }.joined(separator: " ")
    }
}

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
