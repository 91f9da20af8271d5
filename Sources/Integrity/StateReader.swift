import Correlation
import Foundation
import HostMemory

/// Reads a host's state out of a dump and the correlated scan of it: the confirmed VMXON
/// regions and VMCS, each VMCS's fields as its layout places them, and the hypervisor's code.
public struct StateReader {
    /// Pages of code kept on each side of HOST_RIP's page, at most (the run stops earlier at a
    /// page that is not mapped executable).
    public var codeReach = 64

    public init() {}

    /// `previous`: the state this one follows (a check's baseline), whose hypervisor code is
    /// read again when no VMX structure shows now.
    public func state(of memory: any PhysicalMemory, reports: [Report], previous: HostState? = nil) -> HostState {
        let findings = reports.filter { $0.confidence == .finding }
        let eptRoots = Set(findings.filter { $0.structure == .ept && $0.level == 4 }.map(\.page))
        var records: [VMCSRecord] = []
        for report in findings where report.structure == .vmcs {
            guard let page = pageBytes(report.page, in: memory) else { continue }
            let layout = VMCSLayout.named(report.name ?? "")
            let fields = layout?.read(page) ?? [:]
            let live: Bool
            if let at = layout?.launchState {
                live = littleEndian(page + at, 4) == 1
            } else if let eptp = fields[.eptPointer], eptp != 0 {
                live = eptRoots.contains(eptp & RunClaims.addressMask)
            } else {
                live = true
            }
            records.append(VMCSRecord(page: report.page, layout: layout?.name ?? (report.name ?? "unknown"),
                                      revision: UInt32(truncatingIfNeeded: littleEndian(page, 4)) & 0x7fff_ffff, live: live,
                                      fields: Dictionary(uniqueKeysWithValues: fields.map { ($0.key.name, $0.value) }),
                                      contentDigest: fnv1a(UnsafeRawBufferPointer(start: page, count: 4096))))
        }
        let vmxon = findings.filter { $0.structure == .vmxon }.map(\.page).sorted()
        let map = memory.ranges.map { [$0.physicalStart, $0.length] }
        guard !records.isEmpty || !vmxon.isEmpty else {
            let known = previous?.code ?? []
            let roots = findings.filter { $0.structure == .root }.map(\.page)
            return HostState(memoryMap: map, hypervisor: nil, dormantCode: known.isEmpty ? nil : reread(known, roots: roots, in: memory))
        }
        return HostState(memoryMap: map, hypervisor: Hypervisor(vmxon: vmxon, vmcs: records.sorted { $0.page < $1.page },
                                                                code: code(of: records, in: memory)))
    }

    /// The executable pages around each distinct HOST_RIP (live VMCS first: a stale one's may
    /// be all that is left), through that VMCS's HOST_CR3.
    func code(of records: [VMCSRecord], in memory: any PhysicalMemory) -> [CodePage] {
        var pages: [UInt64: CodePage] = [:]
        let sources = records.filter(\.live) + records.filter { !$0.live }
        var seen = Set<[UInt64]>()
        for record in sources {
            guard let rip = record.fields["HOST_RIP"], let cr3 = record.fields["HOST_CR3"], seen.insert([rip, cr3]).inserted else { continue }
            let tables = PageTables(root: cr3, fiveLevel: (record.fields["HOST_CR4"] ?? 0) & 1 << 12 != 0, memory: memory)
            let start = rip & ~0xfff
            var first = start, last = start
            guard tables.executablePage(start) != nil else { continue }
            for _ in 0..<codeReach where first >= 0x1000 && tables.executablePage(first - 0x1000) != nil { first -= 0x1000 }
            for _ in 0..<codeReach where last <= UInt64.max - 0x1fff && tables.executablePage(last + 0x1000) != nil { last += 0x1000 }
            var virtual = first
            while virtual <= last {
                if pages[virtual] == nil, let physical = tables.executablePage(virtual), let bytes = pageBytes(physical, in: memory) {
                    pages[virtual] = CodePage(virtual: virtual, physical: physical, bytes: Data(bytes: bytes, count: 4096))
                }
                virtual += 0x1000
            }
        }
        return pages.values.sorted { $0.virtual < $1.virtual }
    }
}

extension StateReader {
    /// `pages` at the same virtual addresses through the first of `roots` that maps each one
    /// executable (kernel code is in every root's kernel half); a page none maps is left out,
    /// which the comparison reports.
    func reread(_ pages: [CodePage], roots: [UInt64], in memory: any PhysicalMemory) -> [CodePage] {
        let trees = roots.map { PageTables(root: $0, fiveLevel: false, memory: memory) }
        return pages.compactMap { page in
            for tree in trees {
                if let physical = tree.executablePage(page.virtual), let bytes = pageBytes(physical, in: memory) {
                    return CodePage(virtual: page.virtual, physical: physical, bytes: Data(bytes: bytes, count: 4096))
                }
            }
            return nil
        }
    }
}

/// An x86-64 page-table tree as the CPU walks it (Intel SDM vol. 3, 4.5).
struct PageTables {
    var root: UInt64
    var fiveLevel: Bool
    var memory: any PhysicalMemory

    /// The physical page that virtual page `virtual` maps to, when it is present and executable
    /// (XD clear at every level).
    func executablePage(_ virtual: UInt64) -> UInt64? {
        var table = root & RunClaims.addressMask
        for level in stride(from: fiveLevel ? 5 : 4, through: 1, by: -1) {
            let shift = UInt64(12 + 9 * (level - 1))
            guard let entry = quadword(at: table + (virtual >> shift & 0x1ff) * 8, in: memory),
                  entry & 1 != 0, entry >> 63 == 0 else { return nil }
            if level == 1 || (level <= 3 && entry & 0x80 != 0) {
                let size: UInt64 = 1 << shift
                return (entry & RunClaims.addressMask & ~(size - 1)) | (virtual & (size - 1) & ~0xfff)
            }
            table = entry & RunClaims.addressMask
        }
        return nil
    }
}

/// FNV-1a, 64 bits: change detection, not a security digest.
func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}
