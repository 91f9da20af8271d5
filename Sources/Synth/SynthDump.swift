import Dumps
import Foundation

/// A deterministic synthetic memory dump: hypervisor and kernel structures planted among
/// realistic filler and near misses, with its ground truth. The same seed and size give the
/// same bytes in every format.
public struct SynthDump: Sendable {
    /// A planted structure and the alerts the shipped automata must raise on its page
    /// (`automaton/ALERT`); near misses expect none.
    public struct Planted: Codable, Hashable, Sendable {
        public var address: UInt64
        public var kind: String
        public var alerts: [String]
    }

    public enum Format: String, CaseIterable, Sendable {
        case raw, lime, elf
    }

    public let seed: UInt64
    /// Bytes of memory (the two ranges together).
    public let size: UInt64
    /// Two ranges, with a hole between them (as below and above a PCI hole).
    public let ranges: [(start: UInt64, length: UInt64)]
    public let planted: [Planted]
    let structures: [UInt64: Page]

    /// The hole between the two ranges: 2 MiB, or a quarter of a small dump.
    var hole: UInt64 { min(2 << 20, size / 4) }
    /// Host memory the planted tables point into: 64 GiB.
    static let hostPages: UInt64 = 1 << 24

    /// `size`: a positive multiple of 1 MiB.
    public init(seed: UInt64, size: UInt64) {
        precondition(size > 0 && size % (1 << 20) == 0, "size must be a positive multiple of 1 MiB")
        self.seed = seed
        self.size = size
        let half = size / 2
        ranges = [(0, half), (half + min(2 << 20, size / 4), half)]
        var random = SplitMix64(seed: seed ^ 0x5EED_0F_E41C)

        // Free page addresses, drawn without repeats.
        var taken = Set<UInt64>()
        let pageCount = size / 4096
        let ranges = self.ranges
        func freePage() -> UInt64 {
            while true {
                let index = random.below(pageCount)
                let address = index < pageCount / 2 ? index * 4096 : ranges[1].start + (index - pageCount / 2) * 4096
                if taken.insert(address).inserted { return address }
            }
        }
        var structures: [UInt64: Page] = [:]
        var planted: [Planted] = []
        func plant(_ address: UInt64, _ page: Page, _ kind: String, _ alerts: [String]) {
            structures[address] = page
            planted.append(Planted(address: address, kind: kind, alerts: alerts))
        }
        let hostPages = SynthDump.hostPages

        // One set of structures per 16 MiB of memory.
        for _ in 0..<max(1, Int(size >> 24)) {
            // An EPT hierarchy with consistent pointers: PML4 -> two PDPTs -> PDs -> PTs.
            let pts = (0..<5).map { _ in freePage() }
            for address in pts.dropLast() { plant(address, Pages.eptPageTable(&random, hostPages: hostPages), "ept-pt", ["ept/EPT_PT"]) }
            let identityBase = random.below(1 << 15) << 21
            plant(pts[4], Pages.eptIdentityTable(base: identityBase, &random), "ept-identity-pt", ["ept/EPT_PT", "ept-identity/EPT_IDENTITY_PT"])
            let pdWithLeaves = freePage(), pdPointers = freePage()
            plant(pdWithLeaves, Pages.eptDirectory(pointers: [pts[0], pts[1]], largeLeaves: 3, &random, hostPages: hostPages), "ept-pd", ["ept/EPT_PD"])
            plant(pdPointers, Pages.eptDirectory(pointers: [pts[2], pts[3], pts[4]], largeLeaves: 0, &random, hostPages: hostPages), "ept-nonleaf-pd", ["ept/EPT_NONLEAF"])
            let pdptLarge = freePage(), pdptPointers = freePage()
            plant(pdptLarge, Pages.eptGigabyteTable(gigabytes: 3, pointers: [pdWithLeaves]), "ept-pdpt", ["ept/EPT_PDPT"])
            plant(pdptPointers, Pages.eptDirectory(pointers: [pdWithLeaves, pdPointers], largeLeaves: 0, &random, hostPages: hostPages), "ept-nonleaf-pdpt", ["ept/EPT_NONLEAF"])
            let eptRoot = freePage()
            plant(eptRoot, Pages.eptDirectory(pointers: [pdptLarge, pdptPointers], largeLeaves: 0, &random, hostPages: hostPages), "ept-nonleaf-pml4", ["ept/EPT_NONLEAF"])

            // The host kernel's page tables, a process's, and a Windows guest's.
            let kernelRoot = freePage()
            plant(kernelRoot, Pages.linuxPML4(process: false, &random, hostPages: hostPages), "pml4-linux-kernel", ["pml4/PML4"])
            plant(freePage(), Pages.linuxPML4(process: true, &random, hostPages: hostPages), "pml4-linux-process", ["pml4/PML4"])
            let windowsRoot = freePage()
            plant(windowsRoot, Pages.windowsPML4(at: windowsRoot, &random, hostPages: hostPages), "pml4-windows", ["pml4/PML4_SELFREF"])

            // VMCS of both layouts pointing at them, and a VMXON region.
            plant(freePage(), Pages.vmcs(.vmcs12, eptRoot: eptRoot, hostRoot: kernelRoot, &random), "vmcs12", ["vmcs/VMCS12_KVM"])
            plant(freePage(), Pages.vmcs(.haswell, eptRoot: eptRoot, hostRoot: kernelRoot, &random), "vmcs-haswell", ["vmcs/VMCS_HASWELL"])
            plant(freePage(), Pages.vmxon(revision: 0x12), "vmxon", ["vmcs/VMXON"])
            plant(freePage(), Pages.vmcs(.unknown, eptRoot: eptRoot, hostRoot: kernelRoot, &random), "vmcs-unknown-layout", ["vmcs-generic/VMCS_GENERIC"])

            plant(freePage(), Pages.linuxIDT(&random), "idt-linux", ["idt/IDT64"])
            plant(freePage(), Pages.windowsIDT(&random), "idt-windows", ["idt/IDT64"])

            // Near misses: one flaw each, nothing to report.
            var table = Pages.eptPageTable(&random, hostPages: hostPages)
            // A present leaf with a reserved address bit (not an MMIO entry, whose bits are KVM's).
            table.set64(8 * Int(2 + random.below(500)), Pages.eptLeaf(random.below(hostPages) << 12, &random) | 1 << 47)
            plant(freePage(), table, "near-miss-ept-reserved-bit", [])
            table = Pages.eptPageTable(&random, hostPages: hostPages)
            table.set64(8 * Int(2 + random.below(500)), random.below(hostPages) << 12 | 0x7 | 0x10)
            plant(freePage(), table, "near-miss-ept-memory-type", [])
            table = Pages.eptIdentityTable(base: random.below(1 << 15) << 21, &random)
            table.set64(8 * Int(1 + random.below(510)), table.get64(0) + 0x3000)
            plant(freePage(), table, "near-miss-ept-identity-gap", ["ept/EPT_PT"])
            plant(freePage(), Pages.repeated(random.below(hostPages) << 12 | 0x77), "near-miss-repeated-word", [])
            var idt = Pages.linuxIDT(&random)
            idt.bytes[16 * Int(32 + random.below(200)) + 5] = 0x8c            // a call gate
            plant(freePage(), idt, "near-miss-idt-call-gate", [])
            idt = Pages.windowsIDT(&random)
            idt.set32(16 * Int(random.below(256)) + 12, 1)                    // reserved bytes
            plant(freePage(), idt, "near-miss-idt-reserved", [])
            plant(freePage(), Pages.vmcs(.vmcs12, eptRoot: eptRoot, hostRoot: kernelRoot, &random, abort: 1), "near-miss-vmcs-abort", [])
            var pml4 = Pages.linuxPML4(process: false, &random, hostPages: hostPages)
            for index in [273, 274, 402] { pml4.set64(index * 8, 0) }         // 3 kernel entries left
            plant(freePage(), pml4, "near-miss-pml4-sparse", [])
            plant(freePage(), Pages.linuxKernelPageTable(&random, hostPages: hostPages), "x86-page-table", [])
        }
        self.structures = structures
        self.planted = planted.sorted { $0.address < $1.address }
    }

    /// The page at a physical address: a planted structure, or filler drawn from the seed and
    /// the address (so any page can be produced alone, in any order).
    public func page(at address: UInt64) -> [UInt8] {
        if let page = structures[address] { return page.bytes }
        var random = SplitMix64(seed: seed &* 0x2545_F491_4F6C_DD1D ^ address)
        let roll = random.below(100)
        switch roll {
        case 0..<40: return [UInt8](repeating: 0, count: 4096)
        case 40..<60: return Pages.random(&random).bytes
        case 60..<75: return Pages.text(&random).bytes
        case 75..<90: return Pages.codeLike(&random).bytes
        default: return Pages.heap(&random).bytes
        }
    }

    /// Writes the dump in `format` to a file.
    public func write(to path: String, format: Format) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        try write(format: format) { try handle.write(contentsOf: $0) }
    }

    /// The dump in `format`, handed to `sink` in pieces of about 1 MiB (memory use does not
    /// grow with the size).
    public func write<Failure: Error>(format: Format, to sink: ([UInt8]) throws(Failure) -> Void) throws(Failure) {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        func emit(_ bytes: [UInt8]) throws(Failure) {
            buffer += bytes
            if buffer.count >= 1 << 20 {
                try sink(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        func emitRange(_ range: (start: UInt64, length: UInt64)) throws(Failure) {
            for address in stride(from: range.start, to: range.start + range.length, by: 4096) { try emit(page(at: address)) }
        }
        switch format {
        case .raw:
            try emitRange(ranges[0])
            for _ in stride(from: UInt64(0), to: hole, by: 4096) { try emit([UInt8](repeating: 0, count: 4096)) }
            try emitRange(ranges[1])
        case .lime:
            for range in ranges {
                try emit(DumpWriter.limeHeader(start: range.start, length: range.length))
                try emitRange(range)
            }
        case .elf:
            try emit(DumpWriter.elfCoreHeaders(ranges: ranges.map { ($0.start, $0.length) }).prefix)
            for range in ranges { try emitRange(range) }
        }
        try sink(buffer)
    }

    /// The ground truth, as JSON (keys sorted: the same dump gives the same bytes).
    public func truthJSON(format: Format) throws -> Data {
        struct Truth: Codable {
            var seed: UInt64
            var size: UInt64
            var format: String
            var ranges: [[UInt64]]
            var structures: [Planted]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(Truth(seed: seed, size: size, format: format.rawValue,
                                        ranges: ranges.map { [$0.start, $0.length] }, structures: planted))
    }
}
