// EPT page table (4 KiB level) that identity-maps a 2 MiB region.
//
// The seed's automaton, corrected. The slides bound the Hamming distance between
// consecutive entries by 2, but consecutive addresses can differ in many bits
// (0x7000 -> 0x8000 flips 4), and the listing reuses r10 as both the increment and the
// distance. Here each entry's address is predicted from the previous entry (+ 4 KiB) and
// the address bits are compared under a bit select: a Hamming distance of 0.
//
// Matches when all 512 entries are readable (bit 0) and map consecutive 4 KiB pages, the
// first of which starts a 2 MiB region (as an identity map of a 2 MiB-aligned table must).
.automaton "ept-identity"
.description "EPT 4 KiB page table identity-mapping a 2 MiB region (the slides' automaton, corrected)"
.alert EPT_IDENTITY_PT, 0x10, "EPT page table mapping 512 consecutive 4 KiB pages"

start:
    loadw r2, $0xff8            // offset of the last entry
    loadd r6_0, $0xfffff000     // bit select: address bits 12..51
    loadd r6_1, $0x000fffff
    loadw r3, $0x1000           // each entry maps the page after the previous one
    loadb r11, $1               // bit 0: read permission
    loadd r12, $0x1ff000        // address bits 12..20 of the first entry: 2 MiB aligned
    loadw r7, $no_match
    loadw r8, $entry
    mloadq r4, $0               // first entry:
    mask r4, r12, r11, r7       //   readable and 2 MiB aligned, or no match
    add r5, r4, r3              // predicted address of entry 1
    loadw r1, $8
entry:
    mloadq r4, r1
    mask r4, r0, r11, r7        // readable, or no match
    hammq r10, r4, r5, r6       // address bits that differ from the prediction
    equb r10, r0, r7            // any -> no match
    add r5, r4, r3              // prediction for the next entry
    addw r1, $8
    infw r2, r1, r8             // loop while r1 <= 0xff8
    intb $EPT_IDENTITY_PT
no_match:
    intq r0
