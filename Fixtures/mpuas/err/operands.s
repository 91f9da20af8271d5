// Operand mistakes. Each expected message sits on the line that must fail;
// "error@N" also pins the column.
start:
    lodw r2, $1                     // error@5: unknown instruction 'lodw'; did you mean 'loadw'?
    hamming r1, r2, r3, r4          // error: unknown instruction 'hamming'; did you mean 'hamm'?
    loadw r2                        // error@13: wrong operands for 'loadw': expected 'movw destination, source' or 'loadw destination, $value'; found 1 operand
    addq r1, r2                     // error: wrong operands for 'addq': expected 'addq destination, left, right' or 'addq accumulator, $addend'; found 2 operands
    hammq r10, r4, r5, r6, r7       // error@28: wrong operands for 'hammq': expected 'hammq destination, left, right, bit select'; found 5 operands
    mov r1, $3                      // error: wrong operands for 'mov': expected 'movq destination, source'; found an immediate as operand 2 (source), which must be a register ('mov' copies a register; use loadq to load an immediate)
    equw r1, $2, r3                 // error: wrong operands for 'equw': expected 'equw left, right, target'; found an immediate as operand 2 (right), which must be a register
    equw r1, r2, $0x40              // error: wrong operands for 'equw': expected 'equw left, right, target'; found an immediate as operand 3 (target), which must be a register; load the address first (loadw rN, $label)
    intb r1, $2                     // error: wrong operands for 'intb': expected 'intb value' or 'intb $value'; found 2 operands
    loadw r1, 5                     // error@15: immediate operands are written with '$' (as in $0x1000)
    jmpw start                      // error@10: expected a register (r0-r15) or an immediate ($...), found 'start'; write '$start' for its value
    loadw r16, $1                   // error@11: register 'r16' does not exist (the MPU has r0-r15)
    loadd r6_2, $1                  // error@11: sub-register 'r6_2' does not fit size d: a 64-bit register holds 2 32-bit sub-registers (r6_0..r6_1)
    loadq r6_1, $1                  // error: sub-register 'r6_1' does not fit size q: a 64-bit register holds 1 64-bit sub-register (only r6_0)
    movb r1_8, r2                   // error: sub-register 'r1_8' does not fit size b: a 64-bit register holds 8 8-bit sub-registers (r1_0..r1_7)
    infw r1, r2, r9_0               // error@18: the target operand of 'infw' must be a whole register (r9), not a sub-register
    mloadq r4, r1_0                 // error: the page offset operand of 'mloadq' must be a whole register (r1), not a sub-register
    loadw r1, $1,                   // error@18: expected an operand
    loadw r1 $1                     // error@14: unexpected '$' in operand (missing ','?)
    loadw r1, $r2                   // error@16: 'r2' is a register; registers are written without '$'
    loadq r0, $1                    // warning@11: r0 always reads as zero; writing it has no effect
    123                             // error@5: expected an instruction, a directive or a label, found a number
    loadw r1, $1 @                  // error@18: unexpected character '@'
