// Symbols: .equ (forward too), .set, local labels, -D, conditionals, metadata, includes.
// defines: REVISION=0x12, FLAG
.automaton "symbols"
.alert FOUND, 3, "a structure was found"
.equ LIMIT, END - 8               // forward reference to a later .equ
.equ END, 0x1000
.set STEP, 8
.include "include/common.inc"
first:
    loadw r2, $LIMIT                // = e6 20 00 00 00 00 0f f8
    loadb r10, $STEP                // = e2 a0 00 00 00 00 00 08
.set STEP, STEP * 2
    loadb r10, $STEP                // = e2 a0 00 00 00 00 00 10
.loop:
    jmpw $.loop                     // = f6 00 00 00 00 00 00 20
    jmpw $second.loop               // = f6 00 00 00 00 00 00 38
second:
    loadd r1, $REVISION             // = ea 10 00 00 00 00 00 12
.loop:
    jmpw $.loop                     // = f6 00 00 00 00 00 00 38
    loadb r3, $FOUND                // = e2 30 00 00 00 00 00 03
    loadb r3, $COMMON_VALUE         // = e2 30 00 00 00 00 00 2a
.ifdef FLAG
    loadb r4, $1                    // = e2 40 00 00 00 00 00 01
.else
    loadb r4, $2
.endif
.ifndef FLAG
    loadb r4, $3
.endif
.if REVISION == 0x12 && (FLAG || 0) && 3 < 4 && !(2 >= 3)
    loadb r4, $6                    // = e2 40 00 00 00 00 00 06
.endif
.if REVISION - 0x12
    bogus instruction that is skipped
.else
    .if 0
        loadb r4, $4
    .else
        loadb r4, $5                // = e2 40 00 00 00 00 00 05
    .endif
.endif
    intq r0                         // = cc 00 00 00 00 00 00 00
