// Immediates that do not fit, and bad expressions.
start:
    loadd r6_0, $0xffffff000        // error@17: immediate 0xffffff000 does not fit in 32 bits (loadd takes -0x80000000..0xffffffff)
    loadb r3, $256                  // error: immediate 0x100 does not fit in 8 bits (loadb takes -0x80..0xff)
    loadb r3, $-129                 // error: immediate -0x81 does not fit in 8 bits (loadb takes -0x80..0xff)
    addw r1, $0x10000               // error: immediate 0x10000 does not fit in 16 bits (addw takes -0x8000..0xffff)
    loadq r4, $0xffffffff           // error: immediate 0xffffffff does not fit in 32 bits: q immediates are sign-extended from 32 bits (loadq takes -0x80000000..0x7fffffff; build wider values with loadd rN_0 and loadd rN_1)
    jmpb $0x100000000               // error: target 0x100000000 does not fit in 32 bits (jmpb takes 0..0xffffffff)
    mloadw r1, $-8                  // error: page offset -0x8 is negative (mloadw takes 0..0xffffffff)
    jmpw $3                         // error: jump target 3 is not an instruction address (a multiple of 8)
    loadb r1, $1/0                  // error@17: division by zero
    loadb r1, $1 << -1              // error: negative shift count -1
    loadw r1, $(3 +                 // error@20: expected an expression at end of line
    loadw r1, $(3 + 4               // error: expected ')' to close the '(' at column 16
    loadw r1, $'ab'                 // error@16: unterminated character literal (expected ')
    loadw r1, $''                   // error: empty character literal
    loadw r1, $0x                   // error: number '0x' has no digits
    loadw r1, $0b102                // error: invalid digit '2' in binary number '0b102'
    loadw r1, $12ab                 // error: invalid digit 'a' in decimal number '12ab'
    loadw r1, $0x1_0000_0000_0000_0000 // error: number '0x1_0000_0000_0000_0000' does not fit in 64 bits
    loadw r1, $"text"               // error: expected a number, not a string
    loadw r1, $'\q'                 // error: unknown escape sequence '\q'
