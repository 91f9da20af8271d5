# ERIC firmware: the scan loop of the slides, on the SoC of docs/soc.md.
#
#   1. initialise the components (stack, console, the checker's interrupt);
#   2. load the automata into the MPU's program memory (from the table eric puts in ROM);
#   3. compute the address of the next page to analyse (every whole page of every range of
#      host memory the checker reports);
#   4. run the MPU on it, once per automaton;
#   5. on each MPU interrupt, decide: an alert value is reported on the console, the end of a
#      run is counted; then back to step 3.
#
# Build: lm32as firmware/eric.S -o eric-firmware.elf (eric builds it itself).
# Registers: r1-r10 scratch (helpers and the interrupt handler use them; the handler saves
# them), r11-r25 the scan loop's state, sp the stack in RAM.

    .equ UART, 0xe0000000
    .equ SYSCTL, 0xe0001000
    .equ CHECKER, 0xe0009000
    .equ AUTOMATA_TABLE, 0x00080000      # written by eric: "ERIC", count, then per automaton
                                          # code bytes, entry, code
    .equ TABLE_MAGIC, 0x45524943
    .equ MAX_AUTOMATA, 64
    .equ PAGE_SIZE, 0x1000
    .equ CHECKER_IRQ, 0x1000              # line 12

    # Checker registers (docs/soc.md)
    .equ CONTROL, 0x00
    .equ STATUS, 0x04
    .equ IRQ_ENABLE, 0x08
    .equ PAGE_LO, 0x10
    .equ PAGE_HI, 0x14
    .equ ENTRY, 0x18
    .equ PROGRAM_ADDRESS, 0x1c
    .equ PROGRAM_DATA, 0x20
    .equ ALERT_LO, 0x24
    .equ ALERT_POP, 0x2c
    .equ CYCLES_LO, 0x30
    .equ CYCLES_HI, 0x34
    .equ RANGE_COUNT, 0x44
    .equ RANGE_SELECT, 0x48
    .equ RANGE_START_LO, 0x4c
    .equ RANGE_START_HI, 0x50
    .equ RANGE_END_LO, 0x54
    .equ RANGE_END_HI, 0x58
    .equ BASE, 0x60
    .equ BUSY, 1
    .equ DONE, 2
    .equ ALERT, 4
    .equ FAULT, 8
    .equ ERROR, 16

    # Variables in RAM, shared by the scan loop and the interrupt handler.
    .equ VARS, 0x40000000
    .equ RUN_DONE, 0                      # set by the handler at the end of a run
    .equ CURRENT_AUTOMATON, 4
    .equ CURRENT_PAGE_LO, 8
    .equ CURRENT_PAGE_HI, 12
    .equ ALERTS, 16
    .equ MPU_CYCLES_LO, 20
    .equ MPU_CYCLES_HI, 24
    .equ FAULTS, 28
    .equ AUTOMATA, 0x100                  # per automaton: its base in program memory, its entry
    .equ STACK_TOP, 0x40100000

    .text
    .global _start

# Exception vectors: EBA (the reset address, 0) + 32 x ID.
_start:
    bi reset                              # 0 reset
    .align 32
    bi fatal                              # 1 breakpoint
    .align 32
    bi fatal                              # 2 instruction bus error
    .align 32
    bi fatal                              # 3 watchpoint
    .align 32
    bi fatal                              # 4 data bus error
    .align 32
    bi fatal                              # 5 divide by zero
    .align 32
    bi interrupt                          # 6 interrupt
    .align 32
    bi fatal                              # 7 system call
    .align 32

# 1. Initialise.
reset:
    xor r0, r0, r0
    wcsr IE, r0
    mvhi sp, hi(STACK_TOP)
    ori sp, sp, lo(STACK_TOP)
    mvhi r23, hi(VARS)                    # r23: the variables
    mvhi r11, hi(CHECKER)
    ori r11, r11, lo(CHECKER)             # r11: the checker
    sw (r23+ALERTS), r0
    sw (r23+MPU_CYCLES_LO), r0
    sw (r23+MPU_CYCLES_HI), r0
    sw (r23+FAULTS), r0
    mvhi r1, hi(banner)
    ori r1, r1, lo(banner)
    calli puts

# 2. Load the automata.
    calli load_automata                   # r19: how many
    mvhi r1, hi(loaded)
    ori r1, r1, lo(loaded)
    calli puts
    mv r1, r19
    calli puthex
    calli newline

    mvi r2, 3
    sw (r11+IRQ_ENABLE), r2               # interrupt on alerts and at the end of a run
    mvi r2, CHECKER_IRQ
    wcsr IM, r2
    mvi r2, 1
    wcsr IE, r2

    mvi r21, 0                            # pages
    mvi r22, 0                            # runs
    lw r18, (r11+RANGE_COUNT)
    mvi r17, 0
range_loop:
    be r17, r18, finished
    sw (r11+RANGE_SELECT), r17
    lw r13, (r11+RANGE_START_LO)          # r14:r13 the page, r16:r15 the range's end
    lw r14, (r11+RANGE_START_HI)
    lw r15, (r11+RANGE_END_LO)
    lw r16, (r11+RANGE_END_HI)
    mvhi r1, hi(scanning)
    ori r1, r1, lo(scanning)
    calli puts
    mv r1, r14
    calli puthex
    mv r1, r13
    calli puthex
    mvi r1, '-'
    calli putc
    mv r1, r16
    calli puthex
    mv r1, r15
    calli puthex
    calli newline

# 3. The next page: while a whole page remains in the range.
page_loop:
    bgu r14, r16, next_range
    bne r14, r16, page_fits               # higher end word: a whole page remains
    bgeu r13, r15, next_range
    sub r2, r15, r13
    cmpgeui r2, r2, PAGE_SIZE
    be r2, r0, next_range
page_fits:
    sw (r11+PAGE_LO), r13
    sw (r11+PAGE_HI), r14
    sw (r23+CURRENT_PAGE_LO), r13
    sw (r23+CURRENT_PAGE_HI), r14

# 4. Run every automaton on it.
    mvi r12, 0
automaton_loop:
    be r12, r19, next_page
    sw (r23+CURRENT_AUTOMATON), r12
    sli r2, r12, 3
    add r2, r2, r23
    lw r3, (r2+AUTOMATA)
    sw (r11+BASE), r3
    lw r3, (r2+AUTOMATA+4)
    sw (r11+ENTRY), r3
    sw (r23+RUN_DONE), r0
    mvi r2, 1
    sw (r11+CONTROL), r2                  # START
    lw r2, (r11+STATUS)
    andi r2, r2, ERROR
    bne r2, r0, start_failed
wait:
    lw r2, (r23+RUN_DONE)                 # 5. the interrupt handler does the rest
    be r2, r0, wait
    addi r22, r22, 1
    addi r12, r12, 1
    bi automaton_loop

next_page:
    addi r21, r21, 1
    addi r13, r13, PAGE_SIZE
    cmpgeui r2, r13, PAGE_SIZE            # wrapped: carry into the high word
    bne r2, r0, page_loop
    addi r14, r14, 1
    bi page_loop

next_range:
    addi r17, r17, 1
    bi range_loop

start_failed:
    mvhi r1, hi(refused)
    ori r1, r1, lo(refused)
    calli puts
    bi shutdown

finished:
    wcsr IE, r0
    mvhi r1, hi(summary_pages)
    ori r1, r1, lo(summary_pages)
    mv r6, r21
    calli field
    mvhi r1, hi(summary_runs)
    ori r1, r1, lo(summary_runs)
    mv r6, r22
    calli field
    mvhi r1, hi(summary_alerts)
    ori r1, r1, lo(summary_alerts)
    lw r6, (r23+ALERTS)
    calli field
    mvhi r1, hi(summary_faults)
    ori r1, r1, lo(summary_faults)
    lw r6, (r23+FAULTS)
    calli field
    mvhi r1, hi(summary_cycles)
    ori r1, r1, lo(summary_cycles)
    lw r6, (r23+MPU_CYCLES_HI)
    calli field
    lw r1, (r23+MPU_CYCLES_LO)
    calli puthex
    calli newline
shutdown:
    mvhi r2, hi(SYSCTL)
    ori r2, r2, lo(SYSCTL)
    mvi r3, 0x0e
    sw (r2+0x40), r3                      # ICAP: power off
halt:
    bi halt

# Copies each automaton's code from the ROM table into program memory, one after the other,
# and keeps each one's base and entry point. Returns the count in r19.
load_automata:
    mvhi r1, hi(AUTOMATA_TABLE)
    ori r1, r1, lo(AUTOMATA_TABLE)
    lw r2, (r1+0)
    mvhi r3, hi(TABLE_MAGIC)
    ori r3, r3, lo(TABLE_MAGIC)
    mvi r19, 0
    bne r2, r3, 3f                        # no table: nothing to run
    lw r19, (r1+4)
    cmpgui r2, r19, MAX_AUTOMATA
    be r2, r0, 4f
    mvi r19, MAX_AUTOMATA
4:  addi r1, r1, 8                        # r1: the next entry of the table
    mvi r4, 0                             # r4: where the next code goes in program memory
    addi r5, r23, AUTOMATA
    mvi r6, 0
1:  be r6, r19, 3f
    lw r7, (r1+0)                         # code bytes
    lw r8, (r1+4)                         # entry point within that code
    sw (r5+0), r4
    sw (r5+4), r8
    sw (r11+PROGRAM_ADDRESS), r4
    addi r1, r1, 8
    add r4, r4, r7
    srui r7, r7, 2
2:  be r7, r0, 5f
    lw r8, (r1+0)
    sw (r11+PROGRAM_DATA), r8
    addi r1, r1, 4
    addi r7, r7, -1
    bi 2b
5:  addi r5, r5, 8
    addi r6, r6, 1
    bi 1b
3:  ret

# The interrupt handler: report every alert waiting, note the end of a run.
interrupt:
    addi sp, sp, -48
    sw (sp+4), r1
    sw (sp+8), r2
    sw (sp+12), r3
    sw (sp+16), r4
    sw (sp+20), r5
    sw (sp+24), r6
    sw (sp+28), r7
    sw (sp+32), r8
    sw (sp+36), r9
    sw (sp+40), r10
    sw (sp+44), ra
    mvhi r8, hi(CHECKER)
    ori r8, r8, lo(CHECKER)
    mvhi r9, hi(VARS)
1:  lw r2, (r8+STATUS)
    andi r3, r2, ALERT
    be r3, r0, 2f
    lw r10, (r8+ALERT_LO)
    sw (r8+ALERT_POP), r0
    calli report
    bi 1b
2:  andi r3, r2, DONE
    be r3, r0, 3f
    lw r4, (r8+CYCLES_LO)                 # MPU cycles, 64-bit sum
    lw r5, (r8+CYCLES_HI)
    lw r6, (r9+MPU_CYCLES_LO)
    lw r7, (r9+MPU_CYCLES_HI)
    add r4, r4, r6
    cmpgu r6, r6, r4                      # carry
    add r5, r5, r7
    add r5, r5, r6
    sw (r9+MPU_CYCLES_LO), r4
    sw (r9+MPU_CYCLES_HI), r5
    andi r3, r2, FAULT
    be r3, r0, 4f
    lw r4, (r9+FAULTS)
    addi r4, r4, 1
    sw (r9+FAULTS), r4
4:  mvi r3, DONE | FAULT | ERROR
    sw (r8+STATUS), r3                    # acknowledge
    mvi r3, 1
    sw (r9+RUN_DONE), r3
3:  mvi r3, CHECKER_IRQ
    wcsr IP, r3
    lw r1, (sp+4)
    lw r2, (sp+8)
    lw r3, (sp+12)
    lw r4, (sp+16)
    lw r5, (sp+20)
    lw r6, (sp+24)
    lw r7, (sp+28)
    lw r8, (sp+32)
    lw r9, (sp+36)
    lw r10, (sp+40)
    lw ra, (sp+44)
    addi sp, sp, 48
    eret

# "ALERT page 0x<page> automaton 0x<index> value 0x<value>" for the value in r10; r9: VARS.
report:
    addi sp, sp, -4
    sw (sp+4), ra
    lw r4, (r9+ALERTS)
    addi r4, r4, 1
    sw (r9+ALERTS), r4
    mvhi r1, hi(alert_page)
    ori r1, r1, lo(alert_page)
    lw r6, (r9+CURRENT_PAGE_HI)
    calli field
    lw r1, (r9+CURRENT_PAGE_LO)
    calli puthex
    mvhi r1, hi(alert_automaton)
    ori r1, r1, lo(alert_automaton)
    lw r6, (r9+CURRENT_AUTOMATON)
    calli field
    mvhi r1, hi(alert_value)
    ori r1, r1, lo(alert_value)
    mv r6, r10
    calli field
    calli newline
    lw ra, (sp+4)
    addi sp, sp, 4
    ret

# Console helpers (r1 in; r2-r5 used).
field:                                    # the string at r1, then r6 as 8 hex digits
    addi sp, sp, -4
    sw (sp+4), ra
    calli puts
    mv r1, r6
    calli puthex
    lw ra, (sp+4)
    addi sp, sp, 4
    ret

putc:
    mvhi r5, hi(UART)
    sw (r5+0), r1
    ret

puts:                                     # the zero-terminated string at r1
    mvhi r5, hi(UART)
1:  lbu r2, (r1+0)
    be r2, r0, 2f
    sw (r5+0), r2
    addi r1, r1, 1
    bi 1b
2:  ret

puthex:                                   # r1 as 8 hex digits
    mvhi r5, hi(UART)
    mvi r2, 28
1:  sru r3, r1, r2
    andi r3, r3, 15
    cmpgui r4, r3, 9
    be r4, r0, 2f
    addi r3, r3, 'a' - 10 - '0'
2:  addi r3, r3, '0'
    sw (r5+0), r3
    addi r2, r2, -4
    bge r2, r0, 1b
    ret

newline:
    mvhi r5, hi(UART)
    mvi r2, 13
    sw (r5+0), r2
    mvi r2, 10
    sw (r5+0), r2
    ret

fatal:                                    # an exception the firmware does not expect
    mvhi r1, hi(fatal_message)
    ori r1, r1, lo(fatal_message)
    calli puts
    mv r1, ea
    calli puthex
    calli newline
    bi shutdown

    .data
banner:          .asciz "ERIC firmware 1.0: integrity checker\r\n"
loaded:          .asciz "automata loaded: 0x"
scanning:        .asciz "scanning 0x"
refused:         .asciz "checker refused to start\r\n"
alert_page:      .asciz "ALERT page 0x"
alert_automaton: .asciz " automaton 0x"
alert_value:     .asciz " value 0x"
summary_pages:   .asciz "done: pages 0x"
summary_runs:    .asciz " runs 0x"
summary_alerts:  .asciz " alerts 0x"
summary_faults:  .asciz " faults 0x"
summary_cycles:  .asciz " mpu-cycles 0x"
fatal_message:   .asciz "fatal exception at 0x"
