/*
 * The checks of eric's shipped automata (automata/NAME.s) as YARA rules, for the speed
 * comparison in Benchmarks/scan.sh. YARA reads at most 32 bits at a time, so each 64-bit
 * entry is its low (uint32(e)) and high (uint32(e + 4)) halves. YARA says whether a rule
 * matched the file, not which pages: each rule asks for more matching pages than a dump can
 * hold, so that YARA evaluates every page, as eric does (a rule never matches; the time is
 * what is measured). Entry rules follow automata/ept.s, idt.s, pml4.s and vmcs.s.
 */

rule ept_identity_pt {
    condition:
        for 1000000000 p in (0 .. filesize \ 4096 - 1) : (
            (uint32(p * 4096) & 1) == 1 and (uint32(p * 4096) & 0x1ff000) == 0 and
            for all i in (1 .. 511) : (
                (uint32(p * 4096 + i * 8) & 1) == 1 and
                (uint32(p * 4096 + i * 8) & 0xfffff000) == ((uint32(p * 4096 + i * 8 - 8) + 0x1000) & 0xfffff000) and
                (uint32(p * 4096 + i * 8 + 4) & 0xfffff) == ((uint32(p * 4096 + i * 8 - 4) + (uint32(p * 4096 + i * 8 - 8) + 0x1000) \ 0x100000000) & 0xfffff)
            )
        )
}

/* An entry of automata/ept.s's kinds: empty, W-only (tolerated), pointer, 4 KiB leaf, large leaf. */
rule ept_table {
    condition:
        for 1000000000 p in (0 .. filesize \ 4096 - 1) : (
            not (uint32(p * 4096) == uint32(p * 4096 + 8) and uint32(p * 4096 + 4) == uint32(p * 4096 + 12) and
                 (uint32(p * 4096) | uint32(p * 4096 + 4)) != 0) and
            for 2 i in (0 .. 511) : ((uint32(p * 4096 + i * 8) & 7) != 0 and (uint32(p * 4096 + i * 8) & 3) != 2) and
            for all i in (0 .. 511) : (
                (uint32(p * 4096 + i * 8) == 0 and (uint32(p * 4096 + i * 8 + 4) & 0x7fffffff) == 0) or
                (uint32(p * 4096 + i * 8) & 3) == 2 or
                ((uint32(p * 4096 + i * 8) & 7) != 0 and (uint32(p * 4096 + i * 8 + 4) & 0x000fc000) == 0 and (
                    /* pointer: bits 3-7 clear, an address */
                    ((uint32(p * 4096 + i * 8) & 0xf8) == 0 and
                     ((uint32(p * 4096 + i * 8) & 0xfffff000) != 0 or (uint32(p * 4096 + i * 8 + 4) & 0xfffff) != 0)) or
                    /* leaf (4 KiB, or large and 2 MiB aligned): memory type WB or UC */
                    ((uint32(p * 4096 + i * 8) & 0x78) != 0 or (uint32(p * 4096 + i * 8) & 0x80) != 0) and
                     (uint32(p * 4096 + i * 8) & 0x08) == 0 and
                     ((uint32(p * 4096 + i * 8) >> 4) & 1) == ((uint32(p * 4096 + i * 8) >> 5) & 1) and
                     ((uint32(p * 4096 + i * 8) & 0x80) == 0 or (uint32(p * 4096 + i * 8) & 0x1ff000) == 0)
                ))
            )
        )
}

rule idt64 {
    condition:
        for 1000000000 p in (0 .. filesize \ 4096 - 1) : (
            (uint32(p * 4096 + 4) & 0x8000) != 0 and
            for 32 g in (0 .. 255) : ((uint32(p * 4096 + g * 16 + 4) & 0x8000) != 0) and
            for all g in (0 .. 255) : (
                ((uint32(p * 4096 + g * 16 + 4) & 0x8000) == 0 and uint32(p * 4096 + g * 16) == 0 and uint32(p * 4096 + g * 16 + 4) == 0 and
                 uint32(p * 4096 + g * 16 + 8) == 0 and uint32(p * 4096 + g * 16 + 12) == 0) or
                ((uint32(p * 4096 + g * 16 + 4) & 0x10f8) == 0 and (uint32(p * 4096 + g * 16 + 4) & 0x8e00) == 0x8e00 and
                 (uint32(p * 4096 + g * 16) & 0x70000) == 0 and uint16(p * 4096 + g * 16 + 2) == uint16(p * 4096 + 2) and
                 uint32(p * 4096 + g * 16 + 8) > 0xffff7fff and uint32(p * 4096 + g * 16 + 12) == 0)
            )
        )
}

rule pml4 {
    condition:
        for 1000000000 p in (0 .. filesize \ 4096 - 1) : (
            for 4 i in (256 .. 511) : (uint32(p * 4096 + i * 8) != 0 or uint32(p * 4096 + i * 8 + 4) != 0) and
            not for 129 i in (256 .. 511) : (uint32(p * 4096 + i * 8) != 0 or uint32(p * 4096 + i * 8 + 4) != 0) and
            for all i in (0 .. 511) : (
                (uint32(p * 4096 + i * 8) == 0 and uint32(p * 4096 + i * 8 + 4) == 0) or
                ((uint32(p * 4096 + i * 8) & 0x83) == 0x03 and (uint32(p * 4096 + i * 8 + 4) & 0x000fc000) == 0 and
                 ((uint32(p * 4096 + i * 8) & 0xfffff000) != 0 or (uint32(p * 4096 + i * 8 + 4) & 0xfffff) != 0) and
                 ((i < 256 and (uint32(p * 4096 + i * 8) & 4) != 0) or (i >= 256 and (uint32(p * 4096 + i * 8) & 4) == 0)))
            )
        )
}

rule vmcs_known_layouts {
    condition:
        for 1000000000 p in (0 .. filesize \ 4096 - 1) : (
            uint32(p * 4096 + 4) == 0 and (
                ((uint32(p * 4096) & 0x7fffffff) == 0x11e57ed0 and uint32(p * 4096 + 176) == 0xffffffff and uint32(p * 4096 + 180) == 0xffffffff and
                 (uint32(p * 4096 + 600) & 0x2000) != 0 and (uint32(p * 4096 + 592) != 0 or uint32(p * 4096 + 596) != 0)) or
                ((uint32(p * 4096) & 0x7fffffff) == 0x12 and uint32(p * 4096 + 248) == 0xffffffff and uint32(p * 4096 + 252) == 0xffffffff and
                 (uint32(p * 4096 + 824) & 0x2000) != 0 and (uint32(p * 4096 + 816) != 0 or uint32(p * 4096 + 820) != 0)) or
                ((uint32(p * 4096) & 0x7fffffff) >= 0x0e and (uint32(p * 4096) & 0x7fffffff) <= 0x12 and
                 for all o in (1 .. 511) : (uint32(p * 4096 + o * 8) == 0 and uint32(p * 4096 + o * 8 + 4) == 0))
            )
        )
}

rule vmcs_generic {
    condition:
        for 1000000000 p in (0 .. filesize \ 4096 - 1) : (
            uint32(p * 4096 + 4) == 0 and (uint32(p * 4096) & 0x7fffffff) != 0 and
            (uint32(p * 4096) & 0x7fffffff) != 0x0e and (uint32(p * 4096) & 0x7fffffff) != 0x0f and
            (uint32(p * 4096) & 0x7fffffff) != 0x10 and (uint32(p * 4096) & 0x7fffffff) != 0x12 and
            (uint32(p * 4096) & 0x7fffffff) != 0x11e57ed0 and
            for any o in (1 .. 511) : (uint32(p * 4096 + o * 8) == 0xffffffff and uint32(p * 4096 + o * 8 + 4) == 0xffffffff) and
            for any o in (1 .. 511) : (uint32(p * 4096 + o * 8 + 4) == 0 and (uint32(p * 4096 + o * 8) & 0xfe000000) == 0 and
                                       (uint32(p * 4096 + o * 8) & 0x26a0) == 0x26a0) and
            for 2 o in (1 .. 511) : ((uint32(p * 4096 + o * 8) & 0xfff) == 0 and (uint32(p * 4096 + o * 8 + 4) & 0xfff00000) == 0 and
                                     (uint32(p * 4096 + o * 8) != 0 or uint32(p * 4096 + o * 8 + 4) != 0))
        )
}
