// Page builders: the footprints the automata look for (docs/automata.md),
// the near misses they must reject, and realistic filler. Every builder is deterministic in
// its arguments and random generator.

/// SplitMix64 (Steele, Lea and Flood): small, fast, and the same on every platform.
public struct SplitMix64: Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func below(_ bound: UInt64) -> UInt64 { next() % bound }
}

/// A 4 KiB page being built.
public struct Page: Sendable {
    public var bytes = [UInt8](repeating: 0, count: 4096)
    public init() {}

    public mutating func set64(_ offset: Int, _ value: UInt64) {
        for k in 0..<8 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> UInt64(8 * k)) }
    }
    public mutating func set32(_ offset: Int, _ value: UInt32) {
        for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> UInt32(8 * k)) }
    }
    public mutating func set16(_ offset: Int, _ value: UInt16) {
        for k in 0..<2 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> UInt16(8 * k)) }
    }
    public func get64(_ offset: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << UInt64(8 * $1) }
    }
}

public enum Pages {
    // MARK: EPT (Intel SDM vol. 3 ch. 29; KVM's conventions)

    /// KVM's 4 KiB leaf: RWX, memory type WB (6 << 3), ignore PAT; sometimes accessed/dirty
    /// and KVM's software bits 57-58.
    static func eptLeaf(_ address: UInt64, _ random: inout SplitMix64) -> UInt64 {
        var entry = address | 0x7 | 0x30 | 0x40
        if random.below(2) == 0 { entry |= 0x300 }
        if random.below(3) == 0 { entry |= 0x0600_0000_0000_0000 }
        return entry
    }

    /// A table of 4 KiB leaves mapping scattered host pages, a few empty slots (0, or bit 63
    /// alone as KVM writes them) and a few of KVM's W+X MMIO trap entries.
    public static func eptPageTable(_ random: inout SplitMix64, hostPages: UInt64) -> Page {
        var page = Page()
        var used = Set<UInt64>()
        for i in 0..<512 {
            switch random.below(40) {
            case 0: page.set64(i * 8, 0)
            case 1: page.set64(i * 8, 1 << 63)
            case 2: page.set64(i * 8, (random.below(hostPages) << 12) | 0x6 | (random.below(64) << 3))
            default:
                var frame = random.below(hostPages)
                while !used.insert(frame).inserted { frame = random.below(hostPages) }
                page.set64(i * 8, eptLeaf(frame << 12, &random))
            }
        }
        // Entries 0 and 1 hold different leaves (a table never repeats one word).
        page.set64(0, eptLeaf(random.below(hostPages / 2) << 12, &random))
        page.set64(8, eptLeaf((hostPages / 2 + random.below(hostPages / 2)) << 12, &random))
        return page
    }

    /// The slides' footprint: a page table identity-mapping the 2 MiB region at `base`.
    public static func eptIdentityTable(base: UInt64, _ random: inout SplitMix64) -> Page {
        var page = Page()
        for i in 0..<512 { page.set64(i * 8, (base + UInt64(i) << 12) | 0x77) }
        return page
    }

    /// A directory: pointers to the given tables, and 2 MiB leaves (at least one not 1 GiB
    /// aligned) when `largeLeaves`.
    public static func eptDirectory(pointers: [UInt64], largeLeaves: Int, _ random: inout SplitMix64, hostPages: UInt64) -> Page {
        var page = Page()
        var slot = 0
        for pointer in pointers {
            page.set64(slot * 8, pointer | 0x7 | (random.below(2) == 0 ? 0x100 : 0))
            slot += 1
        }
        for k in 0..<largeLeaves {
            let twoMiB = (random.below(hostPages >> 9) << 21) | (k == 0 ? 1 << 21 : 0)
            page.set64(slot * 8, twoMiB | 0x77 | 0x80)
            slot += 1
        }
        return page
    }

    /// A page-directory-pointer table mapping `gigabytes` 1 GiB leaves.
    public static func eptGigabyteTable(gigabytes: Int, pointers: [UInt64]) -> Page {
        var page = Page()
        var slot = 0
        for pointer in pointers {
            page.set64(slot * 8, pointer | 0x7)
            slot += 1
        }
        for k in 0..<gigabytes {
            page.set64(slot * 8, (UInt64(k + 1) << 30) | 0x77 | 0x80)
            slot += 1
        }
        return page
    }

    // MARK: VMCS (Rekall's and Actaeon's layouts, KVM's vmcs12.h)

    public struct VMCSLayout: Sendable {
        public var name: String
        public var revision: UInt32
        public var link: Int, eptp: Int, hostCR3: Int, hostCR4: Int, guestCR3: Int, guestCR4: Int, hostRIP: Int
        /// Where the I/O and MSR bitmap addresses go (page addresses every VMCS holds).
        public var bitmaps: [Int]
        public var alert: String

        public static let haswell = VMCSLayout(name: "haswell", revision: 0x12, link: 248, eptp: 320, hostCR3: 816, hostCR4: 824,
                                               guestCR3: 528, guestCR4: 536, hostRIP: 776, bitmaps: [16, 24, 32], alert: "VMCS_HASWELL")
        public static let vmcs12 = VMCSLayout(name: "vmcs12", revision: 0x11e5_7ed0, link: 176, eptp: 120, hostCR3: 592, hostCR4: 600,
                                              guestCR3: 432, guestCR4: 440, hostRIP: 672, bitmaps: [40, 48, 56], alert: "VMCS12_KVM")
        /// A CPU whose layout no profile knows (revision 0x4, laid out here like Haswell).
        public static let unknown = VMCSLayout(name: "unknown", revision: 0x4, link: 248, eptp: 320, hostCR3: 816, hostCR4: 824,
                                               guestCR3: 528, guestCR4: 536, hostRIP: 776, bitmaps: [16, 24, 32], alert: "VMCS_GENERIC")
    }

    /// A VMCS whose EPTP points at `eptRoot` and HOST_CR3 at `hostRoot`.
    public static func vmcs(_ layout: VMCSLayout, eptRoot: UInt64, hostRoot: UInt64, _ random: inout SplitMix64, abort: UInt32 = 0) -> Page {
        var page = Page()
        page.set32(0, layout.revision)
        page.set32(4, abort)
        // Processor-specific state around the known fields: a sprinkle of plausible values.
        for _ in 0..<40 {
            let offset = Int(8 + random.below(4080 / 8) * 8)
            page.set64(offset, random.below(4) == 0 ? random.below(1 << 16) : 0xffff_ffff_8100_0000 + random.below(1 << 24))
        }
        if layout.name == "vmcs12" {
            page.set32(8, 1)                                  // launch state
            page.set16(966, 0x10)                             // guest CS selector
            page.set16(984, 0x10)                             // host CS selector
        }
        for offset in layout.bitmaps { page.set64(offset, random.below(1 << 24) << 12) }
        page.set64(layout.link, .max)
        page.set64(layout.eptp, eptRoot | 0x5e)               // WB, 4 levels, accessed/dirty
        page.set64(layout.hostCR3, hostRoot | random.below(16)) // may carry a PCID
        page.set64(layout.hostCR4, 0x0037_26e0)               // includes VMXE (bit 13)
        page.set64(layout.guestCR3, random.below(1 << 20) << 12)
        page.set64(layout.guestCR4, 0x0036_06f0)
        page.set64(layout.hostRIP, 0xffff_ffff_8100_0000 + random.below(1 << 22))
        return page
    }

    /// A VMXON region: the revision, an abort indicator of 0, and nothing else.
    public static func vmxon(revision: UInt32) -> Page {
        var page = Page()
        page.set32(0, revision)
        return page
    }

    // MARK: IDT (Intel SDM vol. 3 6.14.1)

    static func gate(_ page: inout Page, _ vector: Int, handler: UInt64, selector: UInt16, ist: UInt8, dpl: UInt8, type: UInt8 = 0xE) {
        let lo = (handler & 0xffff) | UInt64(selector) << 16 | UInt64(ist) << 32
            | UInt64(0x80 | dpl << 5 | type) << 40 | ((handler >> 16) & 0xffff) << 48
        page.set64(vector * 16, lo)
        page.set64(vector * 16 + 8, handler >> 32)
    }

    /// Linux x86-64: all 256 gates, interrupt gates into __KERNEL_CS (0x10), IST stacks for
    /// #DF, NMI, #DB and #MC, user-callable #BP, #OF and int 0x80.
    public static func linuxIDT(_ random: inout SplitMix64) -> Page {
        var page = Page()
        let base = 0xffff_ffff_81a0_0000 + random.below(1 << 12) << 12
        for vector in 0..<256 {
            let ist: UInt8 = [8: 1, 2: 2, 1: 3, 18: 4][vector] ?? 0
            let dpl: UInt8 = [3, 4, 0x80].contains(vector) ? 3 : 0
            gate(&page, vector, handler: base + UInt64(vector) * 0x10, selector: 0x10, ist: ist, dpl: dpl)
        }
        return page
    }

    /// Windows x64: KGDT64_R0_CODE (0x10), IST for NMI, #DF and #MC, user-callable #BP, #OF,
    /// 0x2c-0x2e.
    public static func windowsIDT(_ random: inout SplitMix64) -> Page {
        var page = Page()
        let base = 0xffff_f800_0000_0000 + random.below(1 << 20) << 12
        for vector in 0..<256 {
            let ist: UInt8 = [2: 3, 8: 1, 18: 2][vector] ?? 0
            let dpl: UInt8 = [3, 4, 0x2c, 0x2d, 0x2e].contains(vector) ? 3 : 0
            gate(&page, vector, handler: base + UInt64(vector) * 0x40, selector: 0x10, ist: ist, dpl: dpl)
        }
        return page
    }

    // MARK: x86-64 page tables

    /// A Linux PML4: the kernel half holds the direct map (273...), vmalloc (402), vmemmap
    /// (468), the CPU entry area (508) and the kernel image (511), each P|RW|A|D (0x63); a
    /// process adds user entries (P|RW|US|A|D, 0x67) for its code and stack.
    public static func linuxPML4(process: Bool, _ random: inout SplitMix64, hostPages: UInt64) -> Page {
        var page = Page()
        for index in [273, 274, 402, 468, 508, 511] { page.set64(index * 8, random.below(hostPages) << 12 | 0x63) }
        if process {
            for index in [0, 255] { page.set64(index * 8, random.below(hostPages) << 12 | 0x67) }
        }
        return page
    }

    /// A Windows PML4 with its self-reference (0x1ed, or elsewhere in 0x100-0x1fe since
    /// Windows 10 1607), kernel entries and a user entry with software bits set.
    public static func windowsPML4(at address: UInt64, _ random: inout SplitMix64, hostPages: UInt64) -> Page {
        var page = Page()
        let selfIndex = random.below(2) == 0 ? 0x1ed : 0x100 + Int(random.below(0xfe))
        page.set64(selfIndex * 8, address | 0x63)
        for index in [0x1e0, 0x1f0, 0x1f6, 0x1ff] where index != selfIndex {
            page.set64(index * 8, random.below(hostPages) << 12 | 0x63)
        }
        page.set64(0, 0x0a00_0000_0000_0867 | random.below(hostPages) << 12)
        return page
    }

    /// A Linux kernel page table (level 1): present, global, NX data pages (0x8000000000000163).
    public static func linuxKernelPageTable(_ random: inout SplitMix64, hostPages: UInt64) -> Page {
        var page = Page()
        let start = random.below(hostPages - 512)
        for i in 0..<512 { page.set64(i * 8, 0x8000_0000_0000_0163 | (start + UInt64(i)) << 12) }
        return page
    }

    // MARK: Filler

    public static func random(_ random: inout SplitMix64) -> Page {
        var page = Page()
        for i in 0..<512 { page.set64(i * 8, random.next()) }
        return page
    }

    static let text = Array("""
        ERIC scans host memory page by page. The quick brown fox jumps over the lazy dog. \
        GET /index.html HTTP/1.1\r\nHost: example.org\r\nAccept: */*\r\n\r\n{"key": 12345, "list": [1, 2, 3]} \
        /usr/lib/x86_64-linux-gnu/libc.so.6 PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \n
        """.utf8)

    public static func text(_ random: inout SplitMix64) -> Page {
        var page = Page()
        let offset = Int(random.below(UInt64(text.count)))
        for i in 0..<4096 { page.bytes[i] = text[(offset + i) % text.count] }
        return page
    }

    /// Low-entropy words with x86-like opcode bytes.
    public static func codeLike(_ random: inout SplitMix64) -> Page {
        var page = Page()
        for i in 0..<512 { page.set64(i * 8, random.next() & 0x0000_ffff_00ff_ff48 | 0x0000_0000_e800_0000) }
        return page
    }

    /// Heap-like data: kernel pointers and small integers.
    public static func heap(_ random: inout SplitMix64) -> Page {
        var page = Page()
        for i in 0..<512 {
            page.set64(i * 8, random.below(3) == 0 ? 0xffff_8880_0000_0000 | (random.next() & 0xfff_fff8) : random.below(4096))
        }
        return page
    }

    public static func repeated(_ word: UInt64) -> Page {
        var page = Page()
        for i in 0..<512 { page.set64(i * 8, word) }
        return page
    }
}
