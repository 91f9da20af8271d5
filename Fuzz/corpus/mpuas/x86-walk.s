// x86-64 paging structures below a page-table root, as follow-ups (docs/automata.md, "x86-walk").
//
// Never run on every page: the pml4 automaton asks for it on each table its candidate roots
// point at. Each run names every entry that points at a lower table (P set, PS clear, address
// bits 46-51 zero) as a follow-up, so that the correlation knows every page of the roots' trees
// down to the PTs: such a page is an x86 table, never a root of its own and never EPT.
.automaton "x86-walk"
.description "x86-64 page tables below a root (follow-ups of pml4): the pages of its tree"
.followup
.alert X86_NEXT, 0x48, "an entry pointing at a lower x86-64 table (follow-up: that table)"
.follow X86_NEXT, "x86-walk", 3

// Registers: r1 cursor, r4 entry, r6 byte constants (r6_0 0x01 P, r6_1 0x80 PS), r8_1 address
// bits 46-51 in the high dword, r13 last offset; r10, r12 jump targets.
start:
    loadb r6_0, $0x01
    loadb r6_1, $0x80
    loadd r8_1, $0x000fc000
    loadw r10, $next
    loadw r12, $entry
    loadw r13, $0xff8
entry:
    mloadq r4, r1
    maskb r4, r6_1, r6_0, r10  // present and not a large page, or next
    maskd r4_1, r8_1, r0, r10  // address bits 46-51 (not a table pointer)
    intb $X86_NEXT
    intq r4                    // not zero: P is set
next:
    addw r1, $8
    infw r13, r1, r12          // while r1 <= 0xff8
    intq r0
