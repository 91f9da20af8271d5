// VMCS regions of known layouts, and VMXON regions (docs/automata.md, "vmcs").
//
// A VMCS starts with the revision identifier (bits 30:0; bit 31 marks a shadow VMCS) and the
// VMX-abort indicator, which is 0 in normal operation. The rest is processor specific; for
// the layouts whose offsets are known (Rekall's and Actaeon's profiles, KVM's vmcs12.h) the
// page must also hold, as Actaeon and Rekall check:
//   - VMCS link pointer = all ones;
//   - HOST_CR4 with CR4.VMXE (bit 13) set;
//   - HOST_CR3 not zero, bits 52-63 zero (its low bits may hold a PCID);
//   - EPTP zero (EPT off) or sane: memory type UC (0) or WB (6), page-walk length 4 or 5
//     levels (bits 5:3 = 3 or 4), bits 11:7 and 52-63 zero, a table address.
// A page with a known revision, abort indicator 0, no link pointer, and nothing but zeros after
// its 8-byte header is a VMXON region (reported as VMXON).
// Each alert carries the revision (the next `int`); a VMCS also names its HOST_CR3 and, when EPT
// is on, its EPTP as follow-ups: the pages they point at must be a page-table root and an EPT
// PML4, which is what confirms the VMCS (docs/automata.md, "Correlation").
// -D EXTRA_REVISION=0x.. adds a revision with the Haswell offsets, or with
// -D EXTRA_LINK=.. EXTRA_EPTP=.. EXTRA_HOST_CR3=.. EXTRA_HOST_CR4=.. (byte offsets).
.automaton "vmcs"
.description "VMCS regions of known layouts (Nehalem to Haswell, KVM vmcs12), and VMXON regions"
.alert VMCS_NEHALEM, 0x20, "VMCS, Nehalem layout (revision 0x0e)"
.alert VMCS_WESTMERE, 0x21, "VMCS, Westmere layout (revision 0x0f)"
.alert VMCS_SANDY_BRIDGE, 0x22, "VMCS, Sandy Bridge layout (revision 0x10)"
.alert VMCS_HASWELL, 0x23, "VMCS, Haswell layout (revision 0x12)"
.alert VMCS12_KVM, 0x24, "KVM nested VMCS (vmcs12, revision 0x11e57ed0)"
.alert VMCS_EXTRA, 0x25, "VMCS with the revision given at assembly time (-D EXTRA_REVISION)"
.alert VMCS_BOCHS, 0x26, "VMCS, Bochs layout (revision 0x2b)"
.alert VMXON, 0x2f, "VMXON region: a known revision and an otherwise empty page"
.alert VMCS_HOST_CR3, 0x2d, "the VMCS's HOST_CR3 (follow-up: a page-table root)"
.alert VMCS_EPTP, 0x2e, "the VMCS's EPT pointer (follow-up: an EPT PML4)"
.operand VMCS_NEHALEM
.operand VMCS_WESTMERE
.operand VMCS_SANDY_BRIDGE
.operand VMCS_HASWELL
.operand VMCS12_KVM
.operand VMCS_EXTRA
.operand VMCS_BOCHS
.operand VMXON
.follow VMCS_HOST_CR3, "pml4", 1
.follow VMCS_EPTP, "ept", 4

// Offsets (bytes): link pointer, EPTP, HOST_CR3, HOST_CR4.
.equ NEHALEM_REVISION, 0x0e
.equ WESTMERE_REVISION, 0x0f
.equ SANDY_BRIDGE_REVISION, 0x10
.equ HASWELL_REVISION, 0x12
.equ VMCS12_REVISION, 0x11e57ed0
// Bochs 2.7's layout (cpu/vmcs.cc): field E at 0x10 + ((width << 2 | type) * 64 + (E & 0x3ff)) * 4,
// checked on a real dump of KVM under Bochs (scripts/lab).
.equ BOCHS_REVISION, 0x2b
.ifndef EXTRA_LINK
.equ EXTRA_LINK, 248
.endif
.ifndef EXTRA_EPTP
.equ EXTRA_EPTP, 320
.endif
.ifndef EXTRA_HOST_CR3
.equ EXTRA_HOST_CR3, 816
.endif
.ifndef EXTRA_HOST_CR4
.equ EXTRA_HOST_CR4, 824
.endif

// Registers: r4 revision << 1 (drops the shadow bit), r5-r7 and r13-r14 scratch, r2 the
// failure target, r8 link offset, r9 EPTP offset, r10 HOST_CR3 offset, r11 HOST_CR4 offset,
// r12 the alert for this layout.
start:
    loadw r2, $no_match
    mloadd r5, $4              // VMX-abort indicator
    equd r5, r0, r2
    mloadd r4, $0
    addd r4, r4, r4            // revision bits 30:0, shifted left by one
nehalem:
    loadw r7, $westmere
    loadd r6, $NEHALEM_REVISION << 1
    equd r4, r6, r7
    loadw r8, $248
    loadw r9, $232
    loadw r10, $832
    loadw r11, $840
    loadb r12, $VMCS_NEHALEM
    jmpw $check
westmere:
    loadw r7, $sandy_bridge
    loadd r6, $WESTMERE_REVISION << 1
    equd r4, r6, r7
    loadw r8, $248
    loadw r9, $320
    loadw r10, $832
    loadw r11, $840
    loadb r12, $VMCS_WESTMERE
    jmpw $check
sandy_bridge:
    loadw r7, $haswell
    loadd r6, $SANDY_BRIDGE_REVISION << 1
    equd r4, r6, r7
    loadw r8, $248
    loadw r9, $232
    loadw r10, $832
    loadw r11, $840
    loadb r12, $VMCS_SANDY_BRIDGE
    jmpw $check
haswell:
    loadw r7, $vmcs12
    loadd r6, $HASWELL_REVISION << 1
    equd r4, r6, r7
    loadw r8, $248
    loadw r9, $320
    loadw r10, $816
    loadw r11, $824
    loadb r12, $VMCS_HASWELL
    jmpw $check
vmcs12:
    loadw r7, $bochs
    loadd r6, $(VMCS12_REVISION << 1) & 0xffffffff
    equd r4, r6, r7
    loadw r8, $176
    loadw r9, $120
    loadw r10, $592
    loadw r11, $600
    loadb r12, $VMCS12_KVM
    jmpw $check
bochs:
    loadw r7, $extra
    loadd r6, $BOCHS_REVISION << 1
    equd r4, r6, r7
    loadw r8, $0x610
    loadw r9, $0x478
    loadw r10, $0xf18
    loadw r11, $0xf20
    loadb r12, $VMCS_BOCHS
    jmpw $check
extra:
.ifdef EXTRA_REVISION
    loadd r6, $(EXTRA_REVISION << 1) & 0xffffffff
    equd r4, r6, r2
    loadw r8, $EXTRA_LINK
    loadw r9, $EXTRA_EPTP
    loadw r10, $EXTRA_HOST_CR3
    loadw r11, $EXTRA_HOST_CR4
    loadb r12, $VMCS_EXTRA
    jmpw $check
.else
    intq r0
.endif

check:
    mloadq r5, r8              // VMCS link pointer
    loadq r6, $-1
    loadw r7, $vmxon
    equq r5, r6, r7            // not all ones: perhaps a VMXON region
    mloadq r5, r11             // HOST_CR4
    loadw r6, $0x2000
    maskq r5, r0, r6, r2       // CR4.VMXE
    mloadq r5, r10             // HOST_CR3
    infq r0, r5, r2            // not zero
    loadd r6_1, $0xfff00000
    loadd r6_0, $0
    maskq r5, r6, r0, r2       // bits 52-63 zero
    mloadq r5, r9              // EPTP
    loadw r7, $found
    infq r0, r5, r7            // zero: EPT not in use
    loadd r6_1, $0xfff00000
    loadd r6_0, $0x00000f80
    maskq r5, r6, r0, r2       // bits 11:7 and 52-63 zero
    loadd r6_1, $0x000fffff
    loadd r6_0, $0xfffff000
    hammq r7, r5, r0, r6       // the EPT PML4's address: not zero
    infq r0, r7, r2
    loadb r6, $0x07            // memory type (bits 2:0): WB (6)...
    loadb r13, $0x06
    hammb r7, r5, r13, r6
    loadw r14, $walk
    infb r0, r7, r14
    hammb r7, r5, r0, r6       // ...or UC (0)
    infb r0, r7, r14
    jmpw $no_match
walk:
    loadb r6, $0x38            // page-walk length minus 1 (bits 5:3): 3 (4 levels)...
    loadb r13, $0x18
    hammb r7, r5, r13, r6
    loadw r14, $found
    infb r0, r7, r14
    loadb r13, $0x20           // ...or 4 (5 levels)
    hammb r7, r5, r13, r6
    infb r0, r7, r14
    jmpw $no_match
found:
    intq r12
    mloadd r5, $0              // the revision (not zero: it matched a layout)
    intd r5
    mloadq r5, r10
    intb $VMCS_HOST_CR3
    intq r5                    // not zero: checked above
    mloadq r5, r9
    loadw r7, $no_match
    infq r0, r5, r7            // EPT off: no EPTP to follow
    intb $VMCS_EPTP
    intq r5
    intq r0

// A VMXON region: the header and then nothing.
vmxon:
    loadw r1, $8
    loadw r7, $.loop
    loadw r8, $0xff8
.loop:
    mloadq r5, r1
    equq r5, r0, r2
    addw r1, $8
    infw r8, r1, r7
    intb $VMXON
    mloadd r5, $0
    intd r5
no_match:
    intq r0
