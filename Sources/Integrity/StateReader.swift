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
        // A dump's pages are always there: nothing to throw.
        (try? state(of: DumpPages(memory), reports: reports, previous: previous))!
    }

    public func state(of memory: some HostPages, reports: [Report], previous: HostState? = nil) throws -> HostState {
        let findings = reports.filter { $0.confidence == .finding }
        let eptRoots = Set(findings.filter { $0.structure == .ept && $0.level == 4 }.map(\.page))
        var records: [VMCSRecord] = []
        for report in findings where report.structure == .vmcs {
            guard let bytes = try memory.page(report.page) else { continue }
            let layout = VMCSLayout.named(report.name ?? "")
            let fields = bytes.withUnsafeBytes { layout?.read($0.baseAddress!) ?? [:] }
            let live: Bool
            if let at = layout?.launchState {
                live = bytes.withUnsafeBytes { littleEndian($0.baseAddress! + at, 4) } == 1
            } else if let eptp = fields[.eptPointer], eptp != 0 {
                live = eptRoots.contains(eptp & RunClaims.addressMask)
            } else {
                live = true
            }
            records.append(VMCSRecord(page: report.page, layout: layout?.name ?? (report.name ?? "unknown"),
                                      revision: bytes.withUnsafeBytes { UInt32(truncatingIfNeeded: littleEndian($0.baseAddress!, 4)) } & 0x7fff_ffff, live: live,
                                      fields: Dictionary(uniqueKeysWithValues: fields.map { ($0.key.name, $0.value) }),
                                      contentDigest: bytes.withUnsafeBytes { fnv1a($0) }))
        }
        let vmxon = findings.filter { $0.structure == .vmxon }.map(\.page).sorted()
        let map = memory.memoryMap
        guard !records.isEmpty || !vmxon.isEmpty else {
            let known = previous?.code ?? []
            let roots = findings.filter { $0.structure == .root }.map(\.page)
            return HostState(memoryMap: map, hypervisor: nil, dormantCode: known.isEmpty ? nil : try reread(known, roots: roots, in: memory))
        }
        return HostState(memoryMap: map, hypervisor: Hypervisor(vmxon: vmxon, vmcs: records.sorted { $0.page < $1.page },
                                                                code: try code(of: records, in: memory)))
    }

    /// The executable pages around each distinct HOST_RIP (live VMCS first: a stale one's may
    /// be all that is left), through that VMCS's HOST_CR3.
    func code(of records: [VMCSRecord], in memory: some HostPages) throws -> [CodePage] {
        var pages: [UInt64: CodePage] = [:]
        let sources = records.filter(\.live) + records.filter { !$0.live }
        var seen = Set<[UInt64]>()
        for record in sources {
            guard let rip = record.fields["HOST_RIP"], let cr3 = record.fields["HOST_CR3"], seen.insert([rip, cr3]).inserted else { continue }
            let tables = PageTables(root: cr3, fiveLevel: (record.fields["HOST_CR4"] ?? 0) & 1 << 12 != 0, memory: memory)
            let start = rip & ~0xfff
            var first = start, last = start
            guard try tables.executablePage(start) != nil else { continue }
            for _ in 0..<codeReach where first >= 0x1000 { guard try tables.executablePage(first - 0x1000) != nil else { break }; first -= 0x1000 }
            for _ in 0..<codeReach where last <= UInt64.max - 0x1fff { guard try tables.executablePage(last + 0x1000) != nil else { break }; last += 0x1000 }
            var virtual = first
            while virtual <= last {
                if pages[virtual] == nil, let physical = try tables.executablePage(virtual), let bytes = try memory.page(physical) {
                    pages[virtual] = CodePage(virtual: virtual, physical: physical, bytes: Data(bytes))
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
    func reread(_ pages: [CodePage], roots: [UInt64], in memory: some HostPages) throws -> [CodePage] {
        let trees = roots.map { PageTables(root: $0, fiveLevel: false, memory: memory) }
        return try pages.compactMap { page in
            for tree in trees {
                if let physical = try tree.executablePage(page.virtual), let bytes = try memory.page(physical) {
                    return CodePage(virtual: page.virtual, physical: physical, bytes: Data(bytes))
                }
            }
            return nil
        }
    }
}

/// An x86-64 page-table tree as the CPU walks it (Intel SDM vol. 3, 4.5).
struct PageTables<Memory: HostPages> {
    var root: UInt64
    var fiveLevel: Bool
    var memory: Memory

    /// The physical page that virtual page `virtual` maps to, when it is present and executable
    /// (XD clear at every level).
    func executablePage(_ virtual: UInt64) throws -> UInt64? {
        var table = root & RunClaims.addressMask
        for level in stride(from: fiveLevel ? 5 : 4, through: 1, by: -1) {
            let shift = UInt64(12 + 9 * (level - 1))
            guard let entry = try memory.quadword(at: table + (virtual >> shift & 0x1ff) * 8),
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
