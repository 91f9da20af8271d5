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
.automaton "vmcs-generic"
.description "VMCS of an unknown layout: link pointer, a VMXE CR4 and page addresses anywhere in the page"
.alert VMCS_GENERIC, 0x28, "VMCS candidate of an unknown layout (layout-free checks)"

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
    loadw r6, $scan
    equd r4, r5, r6
    jmpw $no_match

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
no_match:
    intq r0
