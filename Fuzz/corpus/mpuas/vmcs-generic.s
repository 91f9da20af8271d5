// VMCS of an unknown layout, in the spirit of Actaeon's layout-free scan
// (docs/automata.md, "vmcs-generic").
//
// Without offsets, look for what every VMCS holds somewhere in its page:
//   - the header: a revision identifier that is not one of the known layouts (those are the
//     vmcs automaton's), and a VMX-abort indicator of 0;
//   - the VMCS link pointer: a quadword of all ones;
//   - a CR4 value with VMXE: bits 5 (PAE), 7 (PGE), 9 (OSFXSR), 10 (OSXMMEXCPT) and 13 (VMXE)
//     set, nothing above bit 24 (HOST_CR4 of a 64-bit host);
//   - at least two page-aligned physical addresses (CR3s, the I/O and MSR bitmaps): low 12
//     bits and bits 52-63 clear, not zero.
// A page like that is only a candidate: slab pages of any kernel hold such words. The alert
// carries the revision, and every quadword that could be an EPTP (WB or UC, 4-level walk) or a
// CR3 (bits 12-45 an address, at most a small PCID below) is named as a follow-up: the VMCS is
// confirmed when one of them points at an EPT hierarchy and another at a page-table root
// (docs/automata.md, "Correlation").
// A page with an unknown revision, abort indicator 0 and nothing else is a VMXON candidate
// (VMXON_GENERIC, with its revision): confirmed when a confirmed VMCS has the same revision.
.automaton "vmcs-generic"
.description "VMCS of an unknown layout: link pointer, a VMXE CR4 and page addresses anywhere in the page"
.alert VMCS_GENERIC, 0x28, "VMCS candidate of an unknown layout (layout-free checks)"
.alert VMXON_GENERIC, 0x29, "VMXON candidate: an unknown revision and an otherwise empty page"
.alert GENERIC_EPTP, 0x2a, "a quadword shaped like an EPTP (follow-up: an EPT PML4)"
.alert GENERIC_CR3, 0x2b, "a quadword shaped like a CR3 (follow-up: a page-table root)"
.operand VMCS_GENERIC
.operand VMXON_GENERIC
.follow GENERIC_EPTP, "ept", 4
.follow GENERIC_CR3, "pml4", 1

// Registers: r1 cursor, r3 counters (w slots: 0 all-ones, 1 CR4-like, 2 page addresses),
// r4 quadword, r5 scratch, r6 all ones, r7 CR4 bits that must be set, r8 CR4 bits that must be
// clear, r9 bits a page address has clear; r2, r10-r14 jump targets.
start:
    loadw r2, $no_match
    mloadd r5, $4              // VMX-abort indicator
    equd r5, r0, r2
    mloadd r4, $0
    addd r4, r4, r4            // revision bits 30:0, shifted left by one
    infd r0, r4, r2            // zero: no revision
    loadd r5, $0x0e << 1       // the known layouts are the vmcs automaton's
    loadw r6, $.not_nehalem
    equd r4, r5, r6
    jmpw $no_match
.not_nehalem:
    loadd r5, $0x0f << 1
    loadw r6, $.not_westmere
    equd r4, r5, r6
    jmpw $no_match
.not_westmere:
    loadd r5, $0x10 << 1
    loadw r6, $.not_sandy_bridge
    equd r4, r5, r6
    jmpw $no_match
.not_sandy_bridge:
    loadd r5, $0x12 << 1
    loadw r6, $.not_haswell
    equd r4, r5, r6
    jmpw $no_match
.not_haswell:
    loadd r5, $(0x11e57ed0 << 1) & 0xffffffff
    loadw r6, $.not_vmcs12
    equd r4, r5, r6
    jmpw $no_match
.not_vmcs12:
    loadd r5, $0x2b << 1       // Bochs
    loadw r6, $empty
    equd r4, r5, r6
    jmpw $no_match

// Nothing after the header: a VMXON candidate.
empty:
    loadw r1, $8
    loadw r7, $.loop
    loadw r8, $0xff8
    loadw r6, $scan
.loop:
    mloadq r5, r1
    equq r5, r0, r6            // something: perhaps a VMCS
    addw r1, $8
    infw r8, r1, r7
    intb $VMXON_GENERIC
    mloadd r5, $0
    intd r5
    intq r0

scan:
    loadq r6, $-1
    loadw r7, $0x26a0
    loadd r8_0, $0xfe000000
    loadd r8_1, $0xffffffff
    loadd r9_0, $0x00000fff
    loadd r9_1, $0xfff00000
    loadw r10, $next
    loadw r11, $quadword.not_ones
    loadw r12, $quadword.not_cr4
    loadw r13, $0xff8
    loadw r14, $quadword
    loadw r1, $8
quadword:
    mloadq r4, r1
    equq r4, r6, r11           // all ones: the link pointer
    addw r3_0, $1
    jmpw $next
.not_ones:
    maskq r4, r8, r7, r12      // a CR4 with VMXE
    addw r3_1, $1
    jmpw $next
.not_cr4:
    infq r0, r4, r10           // zero
    maskq r4, r9, r0, r10      // not a page address
    addw r3_2, $1
next:
    addw r1, $8
    infw r13, r1, r14          // while r1 <= 0xff8

    infw r0, r3_0, r2          // no all-ones quadword
    infw r0, r3_1, r2          // no CR4 with VMXE
    loadb r5, $1
    infw r5, r3_2, r2          // fewer than two page addresses
    intb $VMCS_GENERIC
    mloadd r5, $0
    intd r5                    // the revision (not zero: checked above)

// Follow-ups: EPTP-shaped and CR3-shaped quadwords.
// r7: low bits an EPTP has (WB: 0x01e, UC: 0x018), r8 the bits compared (all but A/D, bit 6),
// r9 bits a CR3 has clear (46-63, 4-10: room for a PCID 0-15 and bit 11), r11 address bits 12-45,
// r6, r10, r13 jump targets.
    loadd r7, $0x01e
    loadd r8_0, $0x00000fbf
    loadd r8_1, $0xfff00000
    loadd r9_0, $0x000007f0
    loadd r9_1, $0xffffc000
    loadd r11_0, $0xfffff000
    loadd r11_1, $0x00003fff
    loadd r12, $0x018
    loadw r10, $.next
    loadw r13, $.entry
    loadw r6, $.eptp
    loadw r1, $8
.entry:
    mloadq r4, r1
    hammq r5, r4, r0, r11      // no address: next
    infq r0, r5, r10
    hammq r5, r4, r7, r8       // WB EPTP?
    infq r0, r5, r6
    hammq r5, r4, r12, r8      // UC EPTP?
    infq r0, r5, r6
    jmpw $.cr3
.eptp:
    intb $GENERIC_EPTP
    intq r4
    jmpw $.next
.cr3:
    maskq r4, r9, r0, r10      // CR3-shaped
    intb $GENERIC_CR3
    intq r4
.next:
    addw r1, $8
    loadw r5, $0xff8
    infw r5, r1, r13
no_match:
    intq r0
