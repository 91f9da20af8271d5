// x86-64 page-table roots (PML4) of a kernel or a process (docs/automata.md, "pml4").
//
// Every entry is 0 or a present table pointer with:
//   - P and RW set (both Linux and Windows set RW at this level), PS (bit 7) clear, G (bit 8)
//     clear (ignored at this level, and neither sets it there; the leaf entries of kernel
//     mappings carry it, so a page table of global mappings is told apart here),
//     address bits 46-51 zero, an address that is not zero and not the previous entry's;
//   - the user half (entries 0-255) with US set; in the kernel half (256-511) Linux sets US
//     too (0x067: it controls access in the leaves), Windows clears it: either is accepted.
// The kernel half must hold between MIN_KERNEL and MAX_KERNEL entries: Linux maps at least
// the direct map, vmalloc, vmemmap and the kernel image there; a sparse kernel half also sets a
// root apart from lower-level tables, which are dense or hold few entries. An entry of the
// kernel half that points at the page itself is Windows' self-reference (PML4_SELFREF).
// A match names every entry as a follow-up (PML4_ENTRY): the x86-walk automaton goes down the
// tables they point at, so that a lower-level table that happens to look like a root (a process's
// PD with a few entries high in its page) is told apart from the roots (docs/automata.md).
.automaton "pml4"
.description "x86-64 page-table roots (PML4) with a populated kernel half"
.alert PML4, 0x40, "x86-64 PML4 (page-table root) with a populated kernel half"
.alert PML4_SELFREF, 0x41, "x86-64 PML4 with a self-referencing entry (Windows)"
.alert PML4_ENTRY, 0x42, "an entry of a PML4 (follow-up: the tables below it)"
.follow PML4_ENTRY, "x86-walk", 2

.ifndef MIN_KERNEL
.equ MIN_KERNEL, 4
.endif
.ifndef MAX_KERNEL
.equ MAX_KERNEL, 128
.endif

// The kernel half is scanned first: most pages fail there, and its count is checked before
// the user half is read.
// Registers: r1 cursor, r3 counters (w slots: 0 user, 1 kernel, 2 self-references),
// r4 entry, r5 scratch, r6 word constants (r6_0 0x0003 P and RW, r6_1 0x0180 PS and G,
// r6_2 0x0004 US),
// r7 previous entry, r8 address bits 12-51, r9_1 bits 46-51 in the high dword,
// r9_0 0x800 (first kernel entry), r13 the current half's last offset, r15 the page's own
// address; r2, r10-r12, r14 jump targets.
start:
    loadd r6_0, $0x01800003
    loadd r6_1, $0x00000004
    loadd r8_0, $0xfffff000
    loadd r8_1, $0x000fffff
    loadd r9_0, $0x800
    loadd r9_1, $0x000fc000
    loadw r2, $no_match
    loadw r10, $next
    loadw r11, $kernel
    loadw r12, $entry
    loadw r13, $0xff8
    loadw r14, $self_reference
    loadw r1, $0x800           // the kernel half first: most pages are rejected there
entry:
    mloadq r4, r1
    infq r0, r4, r10           // zero: next
    maskw r4, r6_1, r6_0, r2   // P and RW set, PS and G clear
    maskd r4_1, r9_1, r0, r2   // reserved address bits 46-51
    hammq r5, r4, r0, r8       // an address...
    infq r0, r5, r2
    hammq r5, r4, r7, r8       // ...not the previous entry's
    infq r0, r5, r2
    movq r7, r4
    infw r1, r9, r11           // r1 >= 0x800: the kernel half
    maskw r4, r0, r6_2, r2     // user half: US set
    addw r3_0, $1
    jmpw $next
kernel:
    addw r3_1, $1
    hammq r5, r4, r15, r8      // pointing at this very page?
    infq r0, r5, r14
    jmpw $next
self_reference:
    addw r3_2, $1
next:
    addw r1, $8
    infw r13, r1, r12          // until the end of the current half
    loadw r5, $0x7f8
    loadw r4, $kernel_done
    equw r13, r5, r4           // the kernel half was just scanned

    loadw r11, $windows        // both halves scanned
    equw r3_2, r0, r11         // a self-reference
    intb $PML4
    jmpw $follow
windows:
    intb $PML4_SELFREF

// Every entry (all are 0 or valid table pointers by now) as a follow-up.
follow:
    loadw r1, $0
    loadw r10, $.next
    loadw r12, $.entry
    loadw r13, $0xff8
.entry:
    mloadq r4, r1
    infq r0, r4, r10           // zero: next
    intb $PML4_ENTRY
    intq r4
.next:
    addw r1, $8
    infw r13, r1, r12
    intq r0

kernel_done:
    loadw r5, $MIN_KERNEL - 1
    infw r5, r3_1, r2          // fewer than MIN_KERNEL kernel entries
    loadw r5, $MAX_KERNEL + 1
    infw r3_1, r5, r2          // more than MAX_KERNEL
    loadw r1, $0               // now the user half
    loadw r13, $0x7f8
    jmpw $entry
no_match:
    intq r0
