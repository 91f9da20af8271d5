// Hand-worked encodings. Header byte = opcode<<4 | size<<2 | format<<1 (b=0 w=1 d=2 q=3;
// format 1 = immediate); register byte = number<<4 | 8 (if sub-register) | index.
.automaton "encodings"
.description "every opcode, by hand"
start:
    maskq r4, r5, r6, r7            // = 1c 40 50 60 70 00 00 00
    maskb r4_7, r5_6, r6_0, r15     // = 10 4f 5e 68 f0 00 00 00
    equd r1_1, r2_0, r3             // = 28 19 28 30 00 00 00 00
    equ r1, r2, r3                  // = 2c 10 20 30 00 00 00 00
    infw r1, r2, r9                 // = 34 10 20 90 00 00 00 00
    infb r10, r3, r7                // = 30 a0 30 70 00 00 00 00
    add r1, r1, r10                 // = 4c 10 10 a0 00 00 00 00
    addw r1, $-1                    // = 46 10 00 00 00 00 ff ff
    addq r1, $-2                    // = 4e 10 00 00 ff ff ff fe
    addb r2_3, $0x7f                // = 42 2b 00 00 00 00 00 7f
    hammb r2_7, r3_6, r4, r5_1      // = 50 2f 3e 40 59 00 00 00
    hammq r10, r4, r5, r6           // = 5c a0 40 50 60 00 00 00
    intb $5                         // = c2 00 00 00 00 00 00 05
    intq r3                         // = cc 30 00 00 00 00 00 00
    intq r0                         // = cc 00 00 00 00 00 00 00
    mloadd r4_1, $0xff8             // = da 49 00 00 00 00 0f f8
    mloadw r4, r1                   // = d4 40 10 00 00 00 00 00
    mloadb r4, $0xfff               // = d2 40 00 00 00 00 0f ff
    mloadq r4, r1                   // = dc 40 10 00 00 00 00 00
    movb r1_3, r2_5                 // = e0 1b 2d 00 00 00 00 00
    movq r5, r4                     // = ec 50 40 00 00 00 00 00
    loadw r5, r4                    // = e4 50 40 00 00 00 00 00
    loadq r5, $-1                   // = ee 50 00 00 ff ff ff ff
    loadq r5, $0x7fffffff           // = ee 50 00 00 7f ff ff ff
    loadd r6_0, $0xfffff000         // = ea 68 00 00 ff ff f0 00
    loadd r6_1, $0x0000000f         // = ea 69 00 00 00 00 00 0f
    loadb r1, $'A'                  // = e2 10 00 00 00 00 00 41
    loadb r1, $'\n'                 // = e2 10 00 00 00 00 00 0a
    loadb r1, $-128                 // = e2 10 00 00 00 00 00 80
    loadw r1, $(1 << 12) | 0x34 ^ 0x4   // = e6 10 00 00 00 00 10 30
    loadd r1, $0b1010_1010          // = ea 10 00 00 00 00 00 aa
    loadd r1, $0o777                // = ea 10 00 00 00 00 01 ff
    loadw r1, $-7 / 2 + 10 % 4      // = e6 10 00 00 00 00 ff ff
    loadw r1, $~0 >> 48             // = e6 10 00 00 00 00 ff ff
    loadw r1, $.                    // = e6 10 00 00 00 00 01 10
    jmpq $start                     // = fe 00 00 00 00 00 00 00
    jmpw $later                     // = f6 00 00 00 00 00 01 38
    jmpb r8                         // = f0 80 00 00 00 00 00 00
    jmpb $later                     // = f2 00 00 00 00 00 01 38
later:
    LOADW R2, $0X10                 // = e6 20 00 00 00 00 00 10
