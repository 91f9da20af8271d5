// EPT paging structures, at every level (docs/automata.md, "ept").
//
// A page is an EPT table when every one of its 512 entries is valid and at least
// MIN_PRESENT are present. Entry rules (Intel SDM vol. 3 ch. 29, as KVM checks them):
//   - empty: 0, or only bit 63 (suppress #VE, which KVM sets in non-present entries);
//   - W without R (XWR 010 or 110) is a misconfiguration KVM plants on purpose to trap MMIO:
//     tolerated, not counted (its other bits carry KVM's own data);
//   - otherwise some of XWR must be set and address bits 46-51 are zero (MAXPHYADDR 46);
//   - bit 7 set: a large page (2 MiB in a PD, 1 GiB in a PDPT): memory type WB or UC, address
//     aligned to 1 GiB (bits 12-29 zero) or 2 MiB (bits 12-20 zero);
//   - bit 7 clear and bits 3-6 not all zero: a 4 KiB leaf (PT): memory type WB or UC;
//   - bit 7 and bits 3-6 clear: a pointer to the next table: its address is not zero.
//   Leaves must be WB (6) or UC (0): what KVM uses (WB for memory, UC for uncached device
//   memory). WC, WT and WP are valid for the CPU but rare in hypervisors, and accepting them
//   would make every x86-64 page table look like an EPT table: its accessed bit (5) sits where
//   EPT keeps a memory-type bit, so 0x63/0x67 entries read as WT leaves.
//   Entries 0 and 1 must differ unless both are empty: a page of one repeated word is not a
//   table.
// The table's kind:
// A table with pointers names each of them as a follow-up (EPT_NEXT): the tables below must be
// EPT tables too, which is how a hierarchy is confirmed from its root (docs/automata.md).
//   EPT_PT: 4 KiB leaves only; EPT_PD: 2 MiB leaves (and pointers to PTs); EPT_PDPT: 1 GiB
//   leaves (and pointers); EPT_NONLEAF: pointers only: a PML4, or a PDPT or PD without large
//   pages; one page alone cannot tell which.
.automaton "ept"
.description "EPT paging structures: PT (4 KiB leaves), PD (2 MiB), PDPT (1 GiB), and tables of pointers (PML4, PDPT or PD)"
.alert EPT_PT, 0x11, "EPT page table: 4 KiB leaves"
.alert EPT_PD, 0x12, "EPT page directory with 2 MiB leaves"
.alert EPT_PDPT, 0x13, "EPT page-directory-pointer table with 1 GiB leaves"
.alert EPT_NONLEAF, 0x14, "EPT table of pointers to lower tables (PML4, PDPT or PD)"
.alert EPT_NEXT, 0x15, "a pointer entry of an EPT table (follow-up: the table below)"
.follow EPT_NEXT, "ept", 3

.ifndef MIN_PRESENT
.equ MIN_PRESENT, 1            // upper EPT levels of a small guest hold one entry: a lone entry counts (correlation confirms)
.endif

// Registers:
//   r1 cursor, r3 counters (w slots: 0 pointers, 1 4 KiB leaves, 2 2 MiB, 3 1 GiB),
//   r4 entry, r5 and r15 scratch;
//   r6 byte constants (all of an entry's flags are in its low byte):
//     r6_0 0x03 (R and W), r6_1 0x02 (W alone), r6_2 0x07 (XWR), r6_3 0x80 (bit 7),
//     r6_4 0x78 (bits 3-6), r6_5 0x08 / r6_6 0x10 / r6_7 0x20 (memory type bits 0, 1, 2);
//   r7 alignment masks (d slots): r7_0 bits 12-29, r7_1 bits 12-20;
//   r8: r8_0 0xff8 (last entry's offset), r8_1 bits 46-51 as seen in the high dword;
//   r9 address bits 12-51; r2, r10-r14 jump targets.
start:
    loadd r6_0, $0x80070203
    loadd r6_1, $0x20100878
    loadd r7_0, $0x3ffff000
    loadd r7_1, $0x001ff000
    loadd r8_0, $0xff8
    loadd r8_1, $0x000fc000
    loadd r9_0, $0xfffff000
    loadd r9_1, $0x000fffff
    loadw r2, $no_match
    loadw r10, $next
    loadw r11, $large
    loadw r12, $leaf4k
    loadw r13, $large2m
    loadw r14, $entry
    mloadq r4, $0              // entries 0 and 1: the same non-empty word means a page of
    mloadq r5, $8              // one repeated word, not a table
    loadw r15, $entry
    equq r4, r5, r15
    infq r0, r4, r15
    jmpw $no_match
entry:
    mloadq r4, r1
    addq r5, r4, r4            // the entry without bit 63
    infq r0, r5, r10           // empty: next
    hammb r5, r4, r0, r6_2     // XWR
    infb r0, r5, r2            // not present but not empty: no match
    hammb r5, r4, r6_1, r6_0   // W without R: an MMIO trap entry, tolerated
    infb r0, r5, r10
    maskd r4_1, r8_1, r0, r2   // reserved address bits 46-51
    maskb r4, r6_3, r0, r11    // bit 7: a large page
    maskb r4, r6_4, r0, r12    // bits 3-6: a 4 KiB leaf
    hammq r5, r4, r0, r9       // a pointer to a lower table: somewhere
    infq r0, r5, r2
    addw r3_0, $1
    jmpw $next
leaf4k:
    maskb r4, r6_5, r0, r2     // memory type: bit 0 clear...
    hammb r5, r4, r0, r6_6
    hammb r15, r4, r0, r6_7
    equb r5, r15, r2           // ...and bits 1 and 2 equal: WB (110) or UC (000)
    addw r3_1, $1
    jmpw $next
large:
    maskb r4, r6_5, r0, r2     // memory type: bit 0 clear...
    hammb r5, r4, r0, r6_6
    hammb r15, r4, r0, r6_7
    equb r5, r15, r2           // ...and bits 1 and 2 equal: WB (110) or UC (000)
    maskd r4, r7_0, r0, r13    // not 1 GiB aligned: maybe 2 MiB
    addw r3_3, $1
    jmpw $next
large2m:
    maskd r4, r7_1, r0, r2     // 2 MiB aligned, or no match
    addw r3_2, $1
next:
    addw r1, $8
    infw r8, r1, r14           // while r1 <= 0xff8

// The kind, from the counters.
    addw r5, r3_0, r3_1
    addw r5, r5, r3_2
    addw r5, r5, r3_3
    loadw r9, $MIN_PRESENT - 1
    infw r9, r5, r2            // too few present entries
    loadw r11, $pt
    equw r3_1, r0, r11         // 4 KiB leaves
    loadw r11, $pd
    equw r3_2, r0, r11         // 2 MiB leaves
    loadw r11, $pdpt
    equw r3_3, r0, r11         // 1 GiB leaves
    intb $EPT_NONLEAF
    jmpw $follow
pt:
    addw r5, r3_0, r3_2        // a PT holds 4 KiB leaves only (a pointer-shaped entry would be
    addw r5, r5, r3_3          // an uncached leaf: not mixed with cached ones in practice)
    equw r5, r0, r2
    intb $EPT_PT
    intq r0
pd:
    intb $EPT_PD
    jmpw $follow
pdpt:
    intb $EPT_PDPT

// Every pointer entry (present, not a leaf, not an MMIO trap) as a follow-up.
follow:
    loadw r1, $0
    loadw r10, $.next
    loadw r14, $.entry
.entry:
    mloadq r4, r1
    hammb r5, r4, r0, r6_2     // XWR
    infb r0, r5, r10           // empty
    hammb r5, r4, r6_1, r6_0   // W without R
    infb r0, r5, r10
    maskb r4, r6_3, r0, r10    // a large page
    maskb r4, r6_4, r0, r10    // a 4 KiB leaf
    intb $EPT_NEXT
    intq r4
.next:
    addw r1, $8
    infw r8, r1, r14
no_match:
    intq r0
