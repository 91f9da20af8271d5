# ERIC firmware: the scan loop of the slides, on the SoC of docs/soc.md.
#
#   1. initialise the components (stack, console, the checker's interrupt);
#   2. load the automata into the MPU's program memory (from the table eric puts in ROM);
#   3. compute the address of the next page to analyse (every whole page of every range of
#      host memory the checker reports);
#   4. run the MPU on it: one START_LIST runs every automaton on the page, in turn;
#   5. on each MPU interrupt, decide: an alert value is reported on the console and over
#      Ethernet, the end of the page's runs is counted; then back to step 3.
# With the control strapping (sysctl GPIO_IN bit 1), step 1 of the slides ("download the MPU
# binary") comes over Ethernet instead: the firmware serves the control channel
# (docs/protocol.md, "Control"), hands sealed bundles to the checker, and sweeps when told.
#
# Build: lm32as firmware/eric.S -o eric-firmware.elf (eric builds it itself).
# Registers: r1-r10 scratch (helpers use them; the interrupt handler saves those it uses),
# r12 and r20 the interrupt handler's own, the others up to r25 the scan loop's state (r11 the
# checker and r23 the variables, which the handler reads too), sp the stack in RAM.
# Interrupts are enabled only while the loop sleeps waiting for the MPU.

    .equ UART, 0xe0000000
    .equ SYSCTL, 0xe0001000
    .equ CHECKER, 0xe0009000
    .equ AUTOMATA_TABLE, 0x00080000      # written by eric: "ERIC", count, then per automaton
                                          # code bytes, entry, code
    .equ TABLE_MAGIC, 0x45524943
    .equ MAX_AUTOMATA, 64
    .equ PAGE_SIZE, 0x1000
    .equ CHECKER_IRQ, 0x1000              # line 12
    .equ IDLE, 0x60                       # sysctl: sleep until an interrupt is due

    # Checker registers (docs/soc.md)
    .equ CONTROL, 0x00
    .equ STATUS, 0x04
    .equ HOST_ACCESS, 0x0c                # MODE: 0 page (DMA), 1 word (a PCIe read per load)
    .equ IRQ_ENABLE, 0x08
    .equ PAGE_LO, 0x10
    .equ PAGE_HI, 0x14
    .equ PROGRAM_ADDRESS, 0x1c
    .equ PROGRAM_DATA, 0x20
    .equ ALERT_LO, 0x24
    .equ ALERT_HI, 0x28
    .equ ALERT_POP, 0x2c
    .equ CYCLES_LO, 0x30
    .equ CYCLES_HI, 0x34
    .equ RANGE_COUNT, 0x44
    .equ RANGE_SELECT, 0x48
    .equ RANGE_START_LO, 0x4c
    .equ RANGE_START_HI, 0x50
    .equ RANGE_END_LO, 0x54
    .equ RANGE_END_HI, 0x58
    .equ TIME_LO, 0x64
    .equ TIME_HI, 0x68
    .equ ALERT_CYCLE_LO, 0x6c
    .equ ALERT_CYCLE_HI, 0x70
    .equ LIST_COUNT, 0x78
    .equ LIST_SELECT, 0x7c
    .equ LIST_BASE, 0x80
    .equ LIST_ENTRY, 0x84
    .equ LIST_LENGTH, 0x88
    .equ ALERT_SOURCE, 0x8c
    .equ FAULTED_RUNS, 0x90
    .equ FOLLOW_RULE, 0x94                # the follow-up unit (docs/soc.md, "Follow-ups")
    .equ CATALOG_COUNT, 0x98
    .equ ALERT_ORIGIN, 0x9c               # 0 sweep, 1 follow-up alert, 2 follow-up run without one
    .equ ALERT_PAGE_LO, 0xa0
    .equ ALERT_PAGE_HI, 0xa4
    .equ LAST_RUNS, 0xa8
    .equ BUNDLE_ADDRESS, 0xb0             # sealed bundles (docs/security.md)
    .equ BUNDLE_DATA, 0xb4
    .equ BUNDLE_COMMIT, 0xb8
    .equ BUNDLE_RESULT, 0xbc
    .equ SET_VERSION, 0xc0
    .equ ALERT_NAME, 0xc4
    .equ RECORD_DATA, 0xc8                # the record tagger (docs/protocol.md, "Authenticated records")
    .equ RECORD_TAG, 0xcc
    .equ KEY_STATE, 0xac
    .equ HOST_ADDRESS_LO, 0xd0            # the host read port (docs/soc.md)
    .equ HOST_ADDRESS_HI, 0xd4
    .equ HOST_DATA, 0xd8
    .equ DIGEST_PAGE, 0xdc                # write: SHA-256 of the page at HOST_ADDRESS
    .equ DIGEST_0, 0xe0                   # ... its eight words
    .equ REQUEST_TAG, 0x100               # the request checker: a request's tag (four words)
    .equ REQUEST_VALID, 0x110             # ... read: 1 if it holds for the words in RECORD_DATA
    .equ TAG_BYTES, 16
    .equ REFUSED, 3                       # an evidence request whose tag does not hold
    .equ START_LIST, 2
    .equ START_FOLLOWUPS, 4

    # Ethernet (docs/soc.md) and the alert protocol (docs/protocol.md)
    .equ ETHERNET, 0xe0008000
    .equ TXCOUNT, 0x18
    .equ STATE0, 0x08                     # receive slots: 0 empty, 1 loaded (ready), 2 pending
    .equ COUNT0, 0x0c                     # bytes received in slot 0 (slot 1's at +8)
    .equ STATE1, 0x10
    .equ RX_BUFFER, 0xb0000000            # slot 0; slot 1 at +0x800
    .equ ETH_RX_IRQ, 0x400                # line 10
    .equ GPIO_IN, 0x00
    .equ STRAP_CONTROL, 2                 # GPIO_IN bit 1: serve the control channel
    .equ CONTROL_PORT, 17747              # "ES"
    .equ MSG_LOAD, 0x10                   # control messages (docs/protocol.md, "Control")
    .equ MSG_COMMIT, 0x11
    .equ MSG_START, 0x12
    .equ MSG_SHUTDOWN, 0x13
    .equ MSG_STATUS, 0x14
    .equ MSG_MODE, 0x15
    .equ MSG_READ, 0x16                   # 1 KiB of host memory, for a verifier (docs/protocol.md)
    .equ MSG_MAP, 0x17                    # a range of host memory
    .equ MSG_DIGEST, 0x18                 # the checker's SHA-256 of a page of host memory
    .equ BLOCK_BYTES, 1024
    .equ REPLY_BYTES, 74                  # preamble 8 + Ethernet 14 + IPv4 20 + UDP 8 + reply 20 + FCS 4
    .equ TX_BUFFER, 0xb0001000
    .equ FRAME_BYTES, 110                 # preamble 8 + Ethernet 14 + IPv4 20 + UDP 8 + record 56 + FCS 4
    .equ IP_HEADER, 22                    # offsets in the TX buffer
    .equ UDP_HEADER, 42
    .equ RECORD, 50
    .equ RECORD_BYTES, 56
    .equ TRAILER, 24                      # boot nonce 8 + tag 16
    .equ AUTHENTICATED_VERSION, 2
    .equ PSEUDO_HEADER_SUM, 0x81da        # 192.168.0.42 + 192.168.0.14 + 17 + 64, folded
    .equ BUSY, 1
    .equ DONE, 2
    .equ ALERT, 4
    .equ FAULT, 8
    .equ ERROR, 16

    # Variables in RAM, shared by the scan loop and the interrupt handler.
    .equ VARS, 0x40000000
    .equ RUN_DONE, 0                      # set by the handler when the page's runs are over
    .equ CURRENT_AUTOMATON, 4             # of the alert being reported
    .equ CURRENT_PAGE_LO, 8
    .equ CURRENT_PAGE_HI, 12
    .equ ALERTS, 16
    .equ MPU_CYCLES_LO, 20
    .equ MPU_CYCLES_HI, 24
    .equ FAULTS, 28
    .equ SEQUENCE, 32                     # of the next record sent
    .equ RUNS, 36
    .equ TX_WAITS, 40                     # times a record waited for the previous frame to leave
    .equ CURRENT_ORIGIN, 44               # of the alert being reported (ALERT_ORIGIN)
    .equ CONTROL_MODE, 48                 # non-zero: serve the control channel between sweeps
    .equ CURRENT_NAME, 52                 # ALERT_NAME of the alert being reported (sealed sets)
    .equ MSG_TYPE, 56                     # the control message being answered
    .equ MSG_SEQUENCE, 60
    .equ MSG_ARGUMENT, 0x74               # (after the record: a sweep may start before a reply is sent)
    .equ MSG_FRAME, 0x78                  # where its frame is (for the reply's addresses)
    .equ TRAILER_BYTES, 0x7c              # 24 when the checker has a key: records are authenticated
    .equ REPLY_PAYLOAD, 0x80              # bytes of the answer being made (20, then what follows)
    # The record being sent (filled by the caller of send_record).
    .equ REC_AUTOMATON, 0x40
    .equ REC_NAME, 0x44
    .equ REC_VALUE_HI, 0x48
    .equ REC_VALUE_LO, 0x4c
    .equ REC_PAGE_HI, 0x50
    .equ REC_PAGE_LO, 0x54
    .equ REC_CYCLES_HI, 0x58
    .equ REC_CYCLES_LO, 0x5c
    .equ REC_RUNS, 0x60                   # an alert record's origin, a summary's runs
    .equ REC_FAULTS, 0x64
    .equ REC_CYCLE_LO_SAVED, 0x68         # the alert's cycle, read before it leaves the FIFO
    .equ REC_CYCLE_HI_SAVED, 0x6c
    .equ REC_VALUE_HI_SAVED, 0x70         # the alert value's high word (pointers above 4 GiB, flags)
    .equ AUTOMATA, 0x100                  # per automaton (16 bytes): base, entry, alert values, their count
    .equ CRC_TABLE, 0x800                 # 256 words: the FCS's CRC-32, a byte at a time
    .equ STACK_TOP, 0x400ffffc            # the first MiB of RAM: a frame writes from sp + 4 up to the caller's sp

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
    mvhi r24, hi(SYSCTL)
    ori r24, r24, lo(SYSCTL)              # r24: the sysctl
    sw (r23+ALERTS), r0
    sw (r23+MPU_CYCLES_LO), r0
    sw (r23+MPU_CYCLES_HI), r0
    sw (r23+FAULTS), r0
    sw (r23+SEQUENCE), r0
    sw (r23+TX_WAITS), r0
    lw r2, (r11+KEY_STATE)                # a board with a key authenticates its records
    be r2, r0, 1f
    mvi r2, TRAILER
1:  sw (r23+TRAILER_BYTES), r2
    calli crc32_table
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
    sw (r11+IRQ_ENABLE), r2               # interrupt on alerts and at the end of the runs
    mvi r2, CHECKER_IRQ
    wcsr IM, r2
    mvi r25, 1                            # r25: IE's value while waiting
    lw r2, (r24+GPIO_IN)
    andi r2, r2, STRAP_CONTROL
    sw (r23+CONTROL_MODE), r2
    bne r2, r0, control_loop

sweep:
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

# 3. The first page: the range's start rounded up to a page (a dump's range may start inside
#    one, as a LiME range can). The next page: r16:r15 becomes the last whole page's address
#    (the end less a page; none if the end is below 4 KiB), and the loop runs while the page
#    is not above it.
    addi r13, r13, PAGE_SIZE - 1
    cmpgeui r2, r13, PAGE_SIZE - 1        # below: the add carried into the high word
    bne r2, r0, 2f
    addi r14, r14, 1
2:  mvi r2, -PAGE_SIZE
    and r13, r13, r2
    cmpgeui r2, r15, PAGE_SIZE            # no borrow from the high word
    bne r2, r0, 1f
    be r16, r0, next_range
    addi r16, r16, -1
1:  addi r15, r15, -PAGE_SIZE
    sw (r11+PAGE_HI), r14                 # the high word changes only on a carry
page_loop:
    bgu r14, r16, next_range
    bne r14, r16, page_fits               # a lower high word: below the last page
    bgu r13, r15, next_range
page_fits:
    sw (r11+PAGE_LO), r13

# 4. Run every automaton on it (the checker's list, set up by load_automata).
    sw (r23+RUN_DONE), r0
    mvi r2, START_LIST
    sw (r11+CONTROL), r2
    lw r2, (r11+STATUS)
    andi r2, r2, ERROR
    bne r2, r0, start_failed
wait:                                     # 5. the interrupt handler does the rest. Interrupts
    lw r2, (r23+RUN_DONE)                 # are on only while the firmware sleeps: IDLE wakes on
    bne r2, r0, 1f                        # a pending line even with IE off, so one that comes
    sw (r24+IDLE), r0                     # between the test and the sleep is not lost
    wcsr IE, r25                          # the interrupt is taken here
    wcsr IE, r0
    bi wait
1:  add r22, r22, r19                     # runs: one per automaton

next_page:
    addi r21, r21, 1
    addi r13, r13, PAGE_SIZE
    cmpgeui r2, r13, PAGE_SIZE            # wrapped: carry into the high word
    bne r2, r0, page_loop
    addi r14, r14, 1
    sw (r11+PAGE_HI), r14
    bi page_loop

next_range:
    addi r17, r17, 1
    bi range_loop

start_failed:
    mvhi r1, hi(refused)
    ori r1, r1, lo(refused)
    calli puts
    bi after_sweep

# 6. The follow-ups: the pages the sweep's alerts point at, checked by the automata they name
#    (the checker walks them; its alerts come in as the sweep's do, with their own page).
finished:
    sw (r23+RUN_DONE), r0
    mvi r2, START_FOLLOWUPS
    sw (r11+CONTROL), r2
    lw r2, (r11+STATUS)
    andi r2, r2, ERROR
    bne r2, r0, start_failed
1:  lw r2, (r23+RUN_DONE)
    bne r2, r0, 2f
    sw (r24+IDLE), r0
    wcsr IE, r25
    wcsr IE, r0
    bi 1b
2:  lw r2, (r11+LAST_RUNS)
    add r22, r22, r2

# 7. The summary.
    wcsr IE, r0
    mvu r2, 0xffff                        # the summary record: no automaton, no name
    sw (r23+REC_AUTOMATON), r2
    sw (r23+REC_NAME), r2
    sw (r23+REC_VALUE_HI), r0
    lw r2, (r23+ALERTS)
    sw (r23+REC_VALUE_LO), r2
    sw (r23+REC_PAGE_HI), r0
    sw (r23+REC_PAGE_LO), r21
    lw r2, (r23+MPU_CYCLES_HI)
    sw (r23+REC_CYCLES_HI), r2
    lw r2, (r23+MPU_CYCLES_LO)
    sw (r23+REC_CYCLES_LO), r2
    sw (r23+REC_RUNS), r22
    lw r2, (r23+FAULTS)
    sw (r23+REC_FAULTS), r2
    mvi r1, 2
    calli send_record
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
    mvhi r1, hi(summary_waits)
    ori r1, r1, lo(summary_waits)
    lw r6, (r23+TX_WAITS)
    calli field
    calli newline
after_sweep:
    lw r2, (r23+CONTROL_MODE)
    bne r2, r0, control_loop
shutdown:
    mvhi r2, hi(SYSCTL)
    ori r2, r2, lo(SYSCTL)
    mvi r3, 0x0e
    sw (r2+0x40), r3                      # ICAP: power off
halt:
    bi halt

# Copies each automaton's code from the ROM table into program memory, one after the other,
# lists it in the checker (base, entry, length), gives the checker its follow rules and keeps
# its alert values. The sweep's automata come first: LIST_COUNT is theirs, CATALOG_COUNT all.
# Returns the sweep's count in r19.
load_automata:
    mvhi r1, hi(AUTOMATA_TABLE)
    ori r1, r1, lo(AUTOMATA_TABLE)
    lw r2, (r1+0)
    mvhi r3, hi(TABLE_MAGIC)
    ori r3, r3, lo(TABLE_MAGIC)
    mvi r19, 0
    mvi r10, 0                            # r10: how many the sweep runs
    sw (r11+FOLLOW_RULE), r0              # no rules yet
    bne r2, r3, 3f                        # no table: nothing to run
    lw r19, (r1+4)
    lw r10, (r1+8)
    cmpgui r2, r19, MAX_AUTOMATA
    be r2, r0, 4f
    mvi r19, MAX_AUTOMATA
4:  cmpgu r2, r10, r19
    be r2, r0, 4f
    mv r10, r19
4:  addi r1, r1, 12                       # r1: the next entry of the table
    mvi r4, 0                             # r4: where the next code goes in program memory
    addi r5, r23, AUTOMATA
    mvi r6, 0
1:  be r6, r19, 3f
    lw r7, (r1+0)                         # code bytes
    lw r8, (r1+4)                         # entry point within that code
    sw (r5+0), r4
    sw (r5+4), r8
    sw (r11+LIST_SELECT), r6
    sw (r11+LIST_BASE), r4
    sw (r11+LIST_ENTRY), r8
    sw (r11+LIST_LENGTH), r7
    lw r8, (r1+8)                         # alert values: count, then the values
    sw (r5+12), r8
    addi r1, r1, 12
    sw (r5+8), r1
    sli r8, r8, 2
    add r1, r1, r8
    lw r9, (r1+0)                         # follow rules: count, then FOLLOW_RULE words
    addi r1, r1, 4
6:  be r9, r0, 7f
    lw r8, (r1+0)
    sw (r11+FOLLOW_RULE), r8
    addi r1, r1, 4
    addi r9, r9, -1
    bi 6b
7:  sw (r11+PROGRAM_ADDRESS), r4
    add r4, r4, r7
    srui r7, r7, 2
2:  be r7, r0, 5f
    lw r8, (r1+0)
    sw (r11+PROGRAM_DATA), r8
    addi r1, r1, 4
    addi r7, r7, -1
    bi 2b
5:  addi r5, r5, 16
    addi r6, r6, 1
    bi 1b
3:  sw (r11+CATALOG_COUNT), r19
    mv r19, r10
    sw (r11+LIST_COUNT), r19
    ret

# The interrupt handler: report every alert waiting, then note the end of the page's runs.
# The common case (the end, no alert) touches only r12 and r20, which are the handler's own,
# and r11 and r23, which it only reads: it saves nothing.
interrupt:
    lw r12, (r11+STATUS)
    andi r20, r12, ALERT
    bne r20, r0, take_alerts
check_done:                               # r12: STATUS
    andi r20, r12, DONE
    be r20, r0, 1f
    lw r12, (r11+CYCLES_LO)               # MPU cycles, a 64-bit sum
    lw r20, (r23+MPU_CYCLES_LO)
    add r12, r12, r20
    sw (r23+MPU_CYCLES_LO), r12
    cmpgu r12, r20, r12                   # the carry
    lw r20, (r23+MPU_CYCLES_HI)
    add r12, r12, r20
    lw r20, (r11+CYCLES_HI)
    add r12, r12, r20
    sw (r23+MPU_CYCLES_HI), r12
    lw r12, (r11+FAULTED_RUNS)
    lw r20, (r23+FAULTS)
    add r20, r20, r12
    sw (r23+FAULTS), r20
    mvi r12, DONE | FAULT | ERROR
    sw (r11+STATUS), r12                  # acknowledge
    mvi r12, 1
    sw (r23+RUN_DONE), r12
1:  mvi r12, CHECKER_IRQ
    wcsr IP, r12
    eret

# Part of the handler: reporting needs the scratch registers and ra, so it saves them.
take_alerts:
    addi sp, sp, -44
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
1:  mvhi r8, hi(CHECKER)                  # (again each time: report uses r1-r8)
    ori r8, r8, lo(CHECKER)
    mvhi r9, hi(VARS)
    lw r12, (r8+STATUS)
    andi r3, r12, ALERT
    be r3, r0, 2f
    lw r10, (r8+ALERT_LO)
    lw r4, (r8+ALERT_HI)
    sw (r9+REC_VALUE_HI_SAVED), r4
    lw r4, (r8+ALERT_SOURCE)
    sw (r9+CURRENT_AUTOMATON), r4
    lw r4, (r8+ALERT_CYCLE_LO)
    sw (r9+REC_CYCLE_LO_SAVED), r4
    lw r4, (r8+ALERT_CYCLE_HI)
    sw (r9+REC_CYCLE_HI_SAVED), r4
    lw r4, (r8+ALERT_PAGE_LO)             # the page its run checked
    sw (r9+CURRENT_PAGE_LO), r4
    lw r4, (r8+ALERT_PAGE_HI)
    sw (r9+CURRENT_PAGE_HI), r4
    lw r4, (r8+ALERT_ORIGIN)
    sw (r9+CURRENT_ORIGIN), r4
    lw r4, (r8+ALERT_NAME)
    sw (r9+CURRENT_NAME), r4
    sw (r8+ALERT_POP), r0
    calli report
    bi 1b
2:  lw r1, (sp+4)
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
    addi sp, sp, 44
    bi check_done

# "ALERT page 0x<page> automaton 0x<index> value 0x<value>" for the value in r10, then
# " origin 0x<origin>" for a follow-up's; r9: VARS. A follow-up run that raised nothing (origin
# 2) is recorded, not counted as an alert.
report:
    addi sp, sp, -4
    sw (sp+4), ra
    lw r4, (r9+CURRENT_ORIGIN)
    cmpei r4, r4, 2
    bne r4, r0, 1f
    lw r4, (r9+ALERTS)
    addi r4, r4, 1
    sw (r9+ALERTS), r4
1:
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
    lw r6, (r9+REC_VALUE_HI_SAVED)
    calli field
    mv r1, r10
    calli puthex
    lw r6, (r9+CURRENT_ORIGIN)
    be r6, r0, 1f
    mvhi r1, hi(alert_origin)
    ori r1, r1, lo(alert_origin)
    calli field
1:  # The alert record: the value's name id from the automaton's alert values (a sealed
    # set's are the checker's: ALERT_NAME).
    lw r2, (r9+CURRENT_AUTOMATON)
    sw (r9+REC_AUTOMATON), r2
    mvhi r8, hi(CHECKER)
    ori r8, r8, lo(CHECKER)
    lw r5, (r8+SET_VERSION)
    be r5, r0, 5f
    lw r5, (r9+CURRENT_NAME)
    bi 3f
5:  sli r2, r2, 4
    add r2, r2, r9
    lw r3, (r2+AUTOMATA+8)                # its alert values
    lw r4, (r2+AUTOMATA+12)               # how many
    mvi r5, 0
1:  be r5, r4, 2f
    lw r6, (r3+0)
    be r6, r10, 3f
    addi r3, r3, 4
    addi r5, r5, 1
    bi 1b
2:  mvu r5, 0xffff                        # unnamed
3:  lw r6, (r9+REC_VALUE_HI_SAVED)        # names are for values below 2^32 (the table's words)
    be r6, r0, 4f
    mvu r5, 0xffff
4:  sw (r9+REC_NAME), r5
    lw r6, (r9+REC_VALUE_HI_SAVED)
    sw (r9+REC_VALUE_HI), r6
    sw (r9+REC_VALUE_LO), r10
    lw r2, (r9+CURRENT_PAGE_HI)
    sw (r9+REC_PAGE_HI), r2
    lw r2, (r9+CURRENT_PAGE_LO)
    sw (r9+REC_PAGE_LO), r2
    lw r2, (r9+REC_CYCLE_HI_SAVED)
    sw (r9+REC_CYCLES_HI), r2
    lw r2, (r9+REC_CYCLE_LO_SAVED)
    sw (r9+REC_CYCLES_LO), r2
    lw r2, (r9+CURRENT_ORIGIN)
    sw (r9+REC_RUNS), r2
    sw (r9+REC_FAULTS), r0
    mvi r1, 1
    calli send_record
    calli newline
    lw ra, (sp+4)
    addi sp, sp, 4
    ret

# Sends the record in RAM (REC_*) of type r1 (1 alert, 2 summary) as an Ethernet/IPv4/UDP
# frame (docs/protocol.md): the template, then the fields, the IPv4 and UDP checksums and the
# FCS, then TXCOUNT. Uses r1-r8.
send_record:
    addi sp, sp, -8
    sw (sp+4), ra
    sw (sp+8), r1
    mvhi r2, hi(ETHERNET)                 # the TX buffer is free once the last frame has left
    ori r2, r2, lo(ETHERNET)
    lw r3, (r2+TXCOUNT)
    be r3, r0, 2f
    mvhi r4, hi(VARS)
    lw r5, (r4+TX_WAITS)                  # counted, for the summary: nothing is dropped
    addi r5, r5, 1
    sw (r4+TX_WAITS), r5
1:  lw r3, (r2+TXCOUNT)
    bne r3, r0, 1b
2:  mvhi r6, hi(TX_BUFFER)
    ori r6, r6, lo(TX_BUFFER)             # r6: the TX buffer
    calli copy_template                   # the constant part
    mvhi r7, hi(VARS)
    lw r2, (r7+SEQUENCE)                  # IPv4 identification: the sequence's low half
    addi r1, r6, IP_HEADER + 4
    mvi r3, 2
    calli put_be
    lw r2, (sp+8)
    addi r1, r6, RECORD + 5               # type
    mvi r3, 1
    calli put_be
    lw r2, (r7+SEQUENCE)
    addi r1, r6, RECORD + 8
    calli put32
    addi r2, r2, 1
    sw (r7+SEQUENCE), r2
    lw r2, (r7+REC_AUTOMATON)
    addi r1, r6, RECORD + 12
    mvi r3, 2
    calli put_be
    lw r2, (r7+REC_NAME)
    addi r1, r6, RECORD + 14
    mvi r3, 2
    calli put_be
    addi r1, r6, RECORD + 16              # value, page, MPU cycles: 64-bit, high word first
    addi r8, r7, REC_VALUE_HI
2:  lw r2, (r8+0)
    calli put32
    addi r1, r1, 4
    addi r8, r8, 4
    addi r2, r7, REC_CYCLES_LO + 4
    bne r8, r2, 2b
    mvhi r2, hi(CHECKER)
    ori r2, r2, lo(CHECKER)
    lw r8, (r2+TIME_LO)                   # the time stamp: reading LO latches HI
    lw r2, (r2+TIME_HI)
    calli put32
    addi r1, r1, 4
    mv r2, r8
    calli put32
    addi r1, r1, 4
    lw r2, (r7+REC_RUNS)
    calli put32
    addi r1, r1, 4
    lw r2, (r7+REC_FAULTS)
    calli put32
    lw r2, (r7+TRAILER_BYTES)
    be r2, r0, 4f
    mvi r2, RECORD_BYTES
    calli tag_record
4:  lw r8, (r7+TRAILER_BYTES)             # 0, or the trailer's 24 bytes
    addi r1, r6, UDP_HEADER               # UDP checksum, with the pseudo-header's sum
    addi r2, r8, 64
    mvu r3, PSEUDO_HEADER_SUM
    add r3, r3, r8                        # its UDP length (the header's is summed with the packet)
    calli sum16
    xori r2, r1, 0xffff
    bne r2, r0, 3f
    ori r2, r2, 0xffff                    # a computed 0 is sent as 0xffff (RFC 768)
3:  addi r1, r6, UDP_HEADER + 6
    mvi r3, 2
    calli put_be
    lw r2, (r7+TRAILER_BYTES)
    addi r2, r2, FRAME_BYTES
    calli send_frame
    lw ra, (sp+4)
    addi sp, sp, 8
    ret

# Makes the r2 bytes at RECORD in the TX buffer r6 (a record, or an answer with evidence) an
# authenticated message (docs/protocol.md): version 2, the IPv4 and UDP lengths grown by the
# trailer, and the trailer itself, which the checker's record tagger computes from the bytes
# written to it (the key never leaves the checker). Uses r1-r5, r8.
tag_record:
    addi sp, sp, -12
    sw (sp+4), ra
    sw (sp+8), r9
    sw (sp+12), r2
    mvi r2, AUTHENTICATED_VERSION
    sb (r6+RECORD+4), r2
    addi r1, r6, IP_HEADER + 2
    lw r2, (sp+12)
    addi r2, r2, 20 + 8 + TRAILER
    mvi r3, 2
    calli put_be
    addi r1, r6, UDP_HEADER + 4
    lw r2, (sp+12)
    addi r2, r2, 8 + TRAILER
    mvi r3, 2
    calli put_be
    mvhi r9, hi(CHECKER)
    ori r9, r9, lo(CHECKER)
    addi r1, r6, RECORD
    lw r8, (sp+12)
    add r8, r8, r1
1:  calli get32                             # the record, a big-endian word at a time
    sw (r9+RECORD_DATA), r2
    addi r1, r1, 4
    bne r1, r8, 1b
    addi r8, r8, TRAILER
2:  lw r2, (r9+RECORD_TAG)                # the boot nonce, then the tag
    calli put32
    addi r1, r1, 4
    bne r1, r8, 2b
    lw r9, (sp+8)
    lw ra, (sp+4)
    addi sp, sp, 12
    ret

# Sends the frame of r2 bytes (preamble and FCS included) in the TX buffer r6, after its IPv4
# header checksum and its FCS (over the frame, little-endian after it). Uses r1-r5, r7, r8.
send_frame:
    addi sp, sp, -8
    sw (sp+4), ra
    sw (sp+8), r2
    addi r1, r6, IP_HEADER                # IPv4 header checksum
    mvi r2, 20
    mvi r3, 0
    calli sum16
    xori r2, r1, 0xffff
    addi r1, r6, IP_HEADER + 10
    mvi r3, 2
    calli put_be
    addi r1, r6, 8                        # FCS
    lw r2, (sp+8)
    addi r2, r2, -12
    calli crc32
    lw r3, (sp+8)
    add r3, r3, r6
    addi r3, r3, -4
    mvi r4, 4
1:  sb (r3+0), r1
    srui r1, r1, 8
    addi r3, r3, 1
    addi r4, r4, -1
    bne r4, r0, 1b
    mvhi r2, hi(ETHERNET)
    ori r2, r2, lo(ETHERNET)
    lw r3, (sp+8)
    sw (r2+TXCOUNT), r3                   # send
    lw ra, (sp+4)
    addi sp, sp, 8
    ret

# The control channel (docs/protocol.md, "Control"): sleep until a receive slot holds a
# frame, answer it, give the slot back, and again. Interrupts stay off: IDLE wakes on the
# pending line 10 by itself. START leaves for a sweep, which comes back here.
control_loop:
    wcsr IE, r0
    mvhi r2, hi(ETHERNET)
    ori r2, r2, lo(ETHERNET)
    mvi r3, 1
    lw r4, (r2+STATE0)                    # arm the empty slots (a pending one keeps its frame)
    bne r4, r0, 1f
    sw (r2+STATE0), r3
1:  lw r4, (r2+STATE1)
    bne r4, r0, 2f
    sw (r2+STATE1), r3
2:  mvi r3, ETH_RX_IRQ
    wcsr IM, r3
    wcsr IP, r3                           # the frames answered are no longer pending (a frame
3:  lw r4, (r2+STATE0)                    # still waiting raises it again)
    cmpei r4, r4, 2
    bne r4, r0, 4f
    lw r4, (r2+STATE1)
    cmpei r4, r4, 2
    bne r4, r0, 5f
    sw (r24+IDLE), r0                     # until a frame comes
    bi 3b
4:  mvi r1, 0
    bi 6f
5:  mvi r1, 1
6:  calli control_frame                   # r1: the slot; r2: what next (0 go on, 1 sweep, 2 off)
    mvi r3, 1
    be r2, r3, control_sweep
    mvi r3, 2
    be r2, r3, shutdown
    bi control_loop

control_sweep:                            # a new sweep with the set in place
    mvi r2, CHECKER_IRQ
    wcsr IM, r2
    sw (r23+ALERTS), r0
    sw (r23+MPU_CYCLES_LO), r0
    sw (r23+MPU_CYCLES_HI), r0
    sw (r23+FAULTS), r0
    lw r19, (r11+LIST_COUNT)              # a sealed set brings its own
    bi sweep

# Answers the frame in receive slot r1 and gives the slot back. Returns in r2 what the loop
# does next: 0 wait for the next frame, 1 sweep, 2 shut down. A frame that is not a control
# message (another protocol, port or magic) is ignored. Uses r1-r10.
control_frame:
    addi sp, sp, -8
    sw (sp+4), ra
    sw (sp+8), r1
    mvhi r9, hi(RX_BUFFER)
    ori r9, r9, lo(RX_BUFFER)
    sli r2, r1, 11
    add r9, r9, r2
    addi r9, r9, 8                        # r9: the frame (after the preamble)
    sw (r23+MSG_FRAME), r9
    mvi r10, 0                            # r10: what next
    addi r1, r9, 12                       # EtherType IPv4, IPv4 without options, UDP
    mvi r3, 2
    calli get_be
    cmpei r2, r2, 0x0800
    be r2, r0, 9f
    lbu r2, (r9+14)
    cmpei r2, r2, 0x45
    be r2, r0, 9f
    lbu r2, (r9+23)
    cmpei r2, r2, 17
    be r2, r0, 9f
    addi r1, r9, 36                       # to the control port
    mvi r3, 2
    calli get_be
    mvu r3, CONTROL_PORT
    bne r2, r3, 9f
    addi r1, r9, 42                       # "ERIC", version 1
    calli get32
    mvhi r3, hi(TABLE_MAGIC)
    ori r3, r3, lo(TABLE_MAGIC)
    bne r2, r3, 9f
    lbu r2, (r9+46)
    cmpei r2, r2, 1
    be r2, r0, 9f
    addi r1, r9, 38                       # r8: the data's bytes (UDP length - 8 - 16)
    mvi r3, 2
    calli get_be
    cmpgeui r3, r2, 24
    be r3, r0, 9f
    lw r4, (sp+8)                         # the datagram must lie in the frame received: its
    sli r4, r4, 3                         # slot's COUNT holds the preamble, the Ethernet and
    mvhi r5, hi(ETHERNET)                 # IPv4 headers, the UDP length and the FCS (a larger
    ori r5, r5, lo(ETHERNET)              # UDP length read past the buffers: a bus error)
    add r5, r5, r4
    lw r4, (r5+COUNT0)
    addi r3, r2, 8 + 14 + 20 + 4
    cmpgu r3, r3, r4
    bne r3, r0, 9f
    addi r8, r2, -24
    lbu r2, (r9+47)
    sw (r23+MSG_TYPE), r2
    addi r1, r9, 50
    calli get32
    sw (r23+MSG_SEQUENCE), r2
    addi r1, r9, 54
    calli get32
    sw (r23+MSG_ARGUMENT), r2
    lw r7, (r23+MSG_TYPE)
    mvi r3, MSG_LOAD
    be r7, r3, 1f
    mvi r3, MSG_COMMIT
    be r7, r3, 2f
    mvi r3, MSG_START
    be r7, r3, 3f
    mvi r3, MSG_SHUTDOWN
    be r7, r3, 4f
    mvi r3, MSG_STATUS
    be r7, r3, status_message
    mvi r3, MSG_MODE
    be r7, r3, mode_message
    mvi r3, MSG_READ
    be r7, r3, read_message
    mvi r3, MSG_MAP
    be r7, r3, map_message
    mvi r3, MSG_DIGEST
    be r7, r3, digest_message
    mvi r2, -1                            # unknown: answered, refused
    bi 8f
mode_message:                             # MODE: ARGUMENT 0 page, 1 word; answered with the mode in place
    cmpgui r3, r2, 1
    bne r3, r0, 5f
    sw (r11+HOST_ACCESS), r2
    lw r2, (r11+HOST_ACCESS)
    bi 8f
1:  sw (r11+BUNDLE_ADDRESS), r2           # LOAD: the data's words at ARGUMENT in the buffer
    addi r6, r9, 58
    srui r8, r8, 2
6:  be r8, r0, 7f
    mv r1, r6
    calli get32
    sw (r11+BUNDLE_DATA), r2
    addi r6, r6, 4
    addi r8, r8, -1
    bi 6b
7:  lw r2, (r11+BUNDLE_ADDRESS)           # answered with where the next word goes
    bi 8f
2:  sw (r11+BUNDLE_COMMIT), r2            # COMMIT: ARGUMENT bytes; the checker says
    mvhi r1, hi(bundle_result)
    ori r1, r1, lo(bundle_result)
    lw r6, (r11+BUNDLE_RESULT)
    calli field
    mvhi r1, hi(bundle_version)
    ori r1, r1, lo(bundle_version)
    lw r6, (r11+SET_VERSION)
    calli field
    calli newline
    lw r2, (r11+BUNDLE_RESULT)
    bi 8f
3:  mvi r10, 1                            # START
    mvi r2, 0
    bi 8f
4:  mvi r10, 2                            # SHUTDOWN
    mvi r2, 0
    bi 8f
5:  mvi r2, -1                            # a mode that is not one: refused
    bi 8f
status_message:
    lw r2, (r11+SET_VERSION)              # STATUS
    bi 8f
read_message:                             # READ: the data's 8 bytes are a block's address
    mvi r6, BLOCK_BYTES - 1
    bi evidence_message
digest_message:                           # DIGEST: the data's 8 bytes are a page's address
    mvi r6, PAGE_SIZE - 1
evidence_message:                         # READ or DIGEST (MSG_TYPE); r6: the alignment asked
    cmpgeui r3, r8, 8 + TAG_BYTES         # the address, then the tag
    be r3, r0, 5b
    mvi r2, 16 + 8                        # signed: the header and the address
    calli request_holds
    be r2, r0, refuse_request
    addi r1, r9, 58
    calli get32
    mv r7, r2                             # r7: the address's high word
    addi r1, r9, 62
    calli get32
    mv r8, r2                             # r8: its low word
    and r4, r8, r6
    mvi r2, 2                             # 2: not a block's (a page's) start; nothing read
    mvi r3, 28
    bne r4, r0, evidence_answer
    sw (r11+HOST_ADDRESS_LO), r8
    sw (r11+HOST_ADDRESS_HI), r7
    mvi r2, ERROR
    sw (r11+STATUS), r2
    mvi r3, 28 + BLOCK_BYTES              # READ: the block follows the address
    lw r4, (r23+MSG_TYPE)
    cmpei r4, r4, MSG_DIGEST
    be r4, r0, evidence_read
    sw (r11+DIGEST_PAGE), r0              # DIGEST: the checker hashes the page; its 32 bytes follow
    mvi r3, 28 + 32
evidence_read:
    mvi r2, 0
evidence_answer:
    calli begin_reply                     # r6: the TX buffer
    mv r2, r7
    addi r1, r6, RECORD + 20
    calli put32
    mv r2, r8
    addi r1, r6, RECORD + 24
    calli put32
    lw r2, (r23+REPLY_PAYLOAD)
    addi r2, r2, -28
    be r2, r0, evidence_sent
    addi r1, r6, RECORD + 28              # a halfword at a time (the record is 2-aligned)
    add r8, r1, r2
    addi r7, r11, HOST_DATA               # READ: the read port's word after word
    mvi r5, 0
    lw r4, (r23+MSG_TYPE)
    cmpei r4, r4, MSG_DIGEST
    be r4, r0, evidence_word
    addi r7, r11, DIGEST_0                # DIGEST: its eight words
    mvi r5, 4
evidence_word:
    lw r2, (r7+0)
    srui r3, r2, 16
    sh (r1+0), r3
    sh (r1+2), r2
    addi r1, r1, 4
    add r7, r7, r5
    bne r1, r8, evidence_word
    lw r2, (r11+STATUS)                   # outside host memory: 1 (zeros where it is not)
    andi r2, r2, ERROR
    be r2, r0, evidence_sent
    mvi r2, ERROR
    sw (r11+STATUS), r2
    mvi r2, 1
    addi r1, r6, RECORD + 12
    calli put32
evidence_sent:
    calli finish_reply
    bi 9f
map_message:                              # MAP: range ARGUMENT's start and end; the count
    cmpgeui r3, r8, TAG_BYTES             # the tag
    be r3, r0, 5b
    mvi r2, 16                            # signed: the header
    calli request_holds
    be r2, r0, refuse_request
    lw r2, (r23+MSG_ARGUMENT)
    sw (r11+RANGE_SELECT), r2
    lw r2, (r11+RANGE_COUNT)
    mvi r3, 36
    calli begin_reply
    addi r1, r6, RECORD + 20
    mvi r7, RANGE_START_LO
map_word:                                 # start high, low, end high, low
    addi r8, r7, 4
    add r8, r8, r11
    lw r2, (r8+0)
    calli put32
    addi r1, r1, 4
    add r8, r7, r11
    lw r2, (r8+0)
    calli put32
    addi r1, r1, 4
    addi r7, r7, 8
    cmpei r3, r7, RANGE_START_LO + 16
    be r3, r0, map_word
    calli finish_reply
    bi 9f
refuse_request:                           # an evidence request not made with the key
    mvi r2, REFUSED
8:  calli send_reply
9:  lw r1, (sp+8)                         # give the slot back
    mvhi r2, hi(ETHERNET)
    ori r2, r2, lo(ETHERNET)
    sli r1, r1, 3
    add r2, r2, r1
    mvi r3, 1
    sw (r2+STATE0), r3
    mv r2, r10
    lw ra, (sp+4)
    addi sp, sp, 8
    ret

# Whether the evidence request in the frame r9 holds (docs/protocol.md, "Evidence for a
# verifier"): its first r2 bytes (a multiple of 4) and the 16-byte tag after them go to the
# checker, which checks the tag under the request key and this boot's nonce (the key never
# leaves it). r2: 1 or 0. Uses r1-r5.
request_holds:
    addi sp, sp, -4
    sw (sp+4), ra
    addi r1, r9, 42                       # the UDP payload
    add r5, r1, r2
1:  calli get32
    sw (r11+RECORD_DATA), r2
    addi r1, r1, 4
    bne r1, r5, 1b
    addi r4, r11, REQUEST_TAG
    addi r5, r4, TAG_BYTES
2:  calli get32
    sw (r4+0), r2
    addi r1, r1, 4
    addi r4, r4, 4
    bne r4, r5, 2b
    lw r2, (r11+REQUEST_VALID)
    lw ra, (sp+4)
    addi sp, sp, 4
    ret

# Sends the answer to the control message MSG_* with result r2 (20 bytes, nothing after).
send_reply:
    addi sp, sp, -4
    sw (sp+4), ra
    mvi r3, 20
    calli begin_reply
    calli finish_reply
    lw ra, (sp+4)
    addi sp, sp, 4
    ret

# Makes the answer to the control message MSG_* with result r2 in the TX buffer, r6 on return,
# for r3 payload bytes (the 20-byte answer, then what the caller puts after it): to its
# sender's MAC, address and port, from the control port; the UDP checksum is left 0 (none, as
# RFC 768 allows). Uses r1-r6.
begin_reply:
    addi sp, sp, -8
    sw (sp+4), ra
    sw (sp+8), r2
    sw (r23+REPLY_PAYLOAD), r3
    mvhi r2, hi(ETHERNET)                 # the TX buffer is free once the last frame has left
    ori r2, r2, lo(ETHERNET)
1:  lw r3, (r2+TXCOUNT)
    bne r3, r0, 1b
    mvhi r6, hi(TX_BUFFER)
    ori r6, r6, lo(TX_BUFFER)             # r6: the TX buffer
    calli copy_template                   # the alert frame's headers, then what differs
    lw r2, (r23+MSG_FRAME)
    addi r1, r6, 8                        # to the sender's MAC
    addi r2, r2, 6
    mvi r3, 6
    calli copy_bytes
    lw r2, (r23+MSG_FRAME)
    addi r1, r6, IP_HEADER + 16           # to its address
    addi r2, r2, 26
    mvi r3, 4
    calli copy_bytes
    lw r2, (r23+MSG_FRAME)
    addi r1, r6, UDP_HEADER + 2           # to its port
    addi r2, r2, 34
    mvi r3, 2
    calli copy_bytes
    lw r2, (r23+REPLY_PAYLOAD)            # IPv4 total length: 20 + 8 + the answer
    addi r2, r2, 28
    addi r1, r6, IP_HEADER + 2
    mvi r3, 2
    calli put_be
    mvu r2, CONTROL_PORT                  # from the control port
    addi r1, r6, UDP_HEADER
    mvi r3, 2
    calli put_be
    lw r2, (r23+REPLY_PAYLOAD)            # UDP length 8 + the answer, then checksum 0 (none)
    addi r2, r2, 8
    sli r2, r2, 16
    addi r1, r6, UDP_HEADER + 4
    calli put32
    lw r2, (r23+MSG_TYPE)                 # version 1, the type with bit 7, device id 0
    ori r2, r2, 0x180
    sli r2, r2, 16
    addi r1, r6, RECORD + 4
    calli put32
    lw r2, (r23+MSG_SEQUENCE)
    addi r1, r6, RECORD + 8
    calli put32
    lw r2, (sp+8)                         # the result
    addi r1, r6, RECORD + 12
    calli put32
    lw r2, (r11+SET_VERSION)              # the set in place
    addi r1, r6, RECORD + 16
    calli put32
    lw ra, (sp+4)
    addi sp, sp, 8
    ret

# Sends the answer begun in the TX buffer r6. An answer longer than 20 bytes carries evidence
# (READ, MAP, DIGEST): with a key it is authenticated as a record is (version 2, the trailer after it).
# Uses r1-r8.
finish_reply:
    addi sp, sp, -4
    sw (sp+4), ra
    lw r2, (r23+REPLY_PAYLOAD)
    cmpei r3, r2, 20
    bne r3, r0, 1f
    lw r3, (r23+TRAILER_BYTES)
    be r3, r0, 1f
    calli tag_record
    lw r2, (r23+REPLY_PAYLOAD)
    lw r3, (r23+TRAILER_BYTES)
    add r2, r2, r3
1:  addi r2, r2, 8 + 14 + 20 + 8 + 4     # the frame: preamble, headers, answer, FCS
    calli send_frame
    lw ra, (sp+4)
    addi sp, sp, 4
    ret

get_be:                                   # r2: the r3 bytes at r1, big-endian (r1 kept; r3-r5 used)
    mvi r2, 0
    mv r4, r1
1:  be r3, r0, 2f
    lbu r5, (r4+0)
    sli r2, r2, 8
    or r2, r2, r5
    addi r4, r4, 1
    addi r3, r3, -1
    bi 1b
2:  ret

put32:                                    # r2 at r1 (2-aligned), big-endian (r1, r2 kept; r3 used)
    srui r3, r2, 16
    sh (r1+0), r3
    sh (r1+2), r2
    ret

get32:                                    # r2: the 4 bytes at r1 (2-aligned), big-endian (r1 kept; r3 used)
    lhu r2, (r1+0)
    sli r2, r2, 16
    lhu r3, (r1+2)
    or r2, r2, r3
    ret

copy_template:                            # the frame template's first 60 bytes to the TX buffer r6 (r2-r5 used)
    mvhi r2, hi(frame_template)           # (a word at a time: both are word-aligned; what
    ori r2, r2, lo(frame_template)        # follows the template's 58 bytes is overwritten)
    mv r3, r6
    addi r5, r6, 60
1:  lw r4, (r2+0)
    sw (r3+0), r4
    addi r2, r2, 4
    addi r3, r3, 4
    bne r3, r5, 1b
    ret

copy_bytes:                               # r3 bytes from r2 to r1 (r1-r4 used)
1:  be r3, r0, 2f
    lbu r4, (r2+0)
    sb (r1+0), r4
    addi r1, r1, 1
    addi r2, r2, 1
    addi r3, r3, -1
    bi 1b
2:  ret

put_be:                                   # the low r3 bytes of r2 at r1, big-endian (r1, r2 kept; r3-r5 used)
    addi r4, r3, -1
    sli r4, r4, 3
    mv r5, r1
1:  sru r3, r2, r4
    sb (r5+0), r3
    addi r5, r5, 1
    addi r4, r4, -8
    bge r4, r0, 1b
    ret

sum16:                                    # r1: the folded one's-complement sum of r2 bytes at r1 (both even), from r3
    mv r4, r1
    add r5, r1, r2
1:  be r4, r5, 2f
    lhu r2, (r4+0)
    add r3, r3, r2
    addi r4, r4, 2
    bi 1b
2:  srui r2, r3, 16                       # fold the carries
    be r2, r0, 3f
    andi r3, r3, 0xffff
    add r3, r3, r2
    bi 2b
3:  mv r1, r3
    ret

crc32:                                    # r1: CRC-32 (IEEE 802.3) of r2 bytes at r1 (word-aligned),
    mv r4, r1                             # a byte at a time through the table, four bytes to a
    add r5, r1, r2                        # word load (r2-r5, r7, r8 used)
    srui r7, r2, 2                        # r7: whole words
    mvi r1, -1
    mvhi r3, hi(VARS)
    ori r3, r3, CRC_TABLE
1:  be r7, r0, 3f
    lw r8, (r4+0)
    srui r2, r8, 24                       # the word's first byte
    xor r2, r2, r1
    andi r2, r2, 0xff
    sli r2, r2, 2
    add r2, r2, r3
    lw r2, (r2+0)
    srui r1, r1, 8
    xor r1, r1, r2
    srui r2, r8, 16                       # its second
    xor r2, r2, r1
    andi r2, r2, 0xff
    sli r2, r2, 2
    add r2, r2, r3
    lw r2, (r2+0)
    srui r1, r1, 8
    xor r1, r1, r2
    srui r2, r8, 8                        # its third
    xor r2, r2, r1
    andi r2, r2, 0xff
    sli r2, r2, 2
    add r2, r2, r3
    lw r2, (r2+0)
    srui r1, r1, 8
    xor r1, r1, r2
    xor r2, r8, r1                        # its fourth
    andi r2, r2, 0xff
    sli r2, r2, 2
    add r2, r2, r3
    lw r2, (r2+0)
    srui r1, r1, 8
    xor r1, r1, r2
    addi r4, r4, 4
    addi r7, r7, -1
    bi 1b
3:  be r4, r5, 2f                         # the last bytes, one at a time
    lbu r2, (r4+0)
    xor r2, r2, r1
    andi r2, r2, 0xff
    sli r2, r2, 2
    add r2, r2, r3
    lw r2, (r2+0)
    srui r1, r1, 8
    xor r1, r1, r2
    addi r4, r4, 1
    bi 3b
2:  not r1, r1
    ret

crc32_table:                              # the table of crc32: entry n is n's CRC remainder,
    mvhi r6, hi(VARS)                     # bit by bit (r1-r8 used)
    ori r6, r6, CRC_TABLE
    mvhi r3, 0xedb8                       # the reflected polynomial
    ori r3, r3, 0x8320
    mvi r4, 0
    mvi r5, 256
1:  mv r1, r4
    mvi r8, 8
2:  andi r2, r1, 1
    srui r1, r1, 1
    be r2, r0, 3f
    xor r1, r1, r3
3:  addi r8, r8, -1
    bne r8, r0, 2b
    sw (r6+0), r1
    addi r6, r6, 4
    addi r4, r4, 1
    bne r4, r5, 1b
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
    .align 4
frame_template:                           # preamble, Ethernet, IPv4 and UDP headers, record start
    .byte 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0xd5
    .byte 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10, 0xe2, 0xd5, 0x00, 0x00, 0x00, 0x08, 0x00
    .byte 0x45, 0x00, 0x00, 84, 0x00, 0x00, 0x40, 0x00, 64, 17, 0x00, 0x00
    .byte 192, 168, 0, 42, 192, 168, 0, 14
    .byte 0x45, 0x52, 0x45, 0x52, 0x00, 64, 0x00, 0x00       # ports 17746, length 64, checksum
    .ascii "ERIC"
    .byte 1, 0, 0, 0                                          # version, type, device id
banner:          .asciz "ERIC firmware 1.0: integrity checker\r\n"
loaded:          .asciz "automata loaded: 0x"
scanning:        .asciz "scanning 0x"
refused:         .asciz "checker refused to start\r\n"
alert_page:      .asciz "ALERT page 0x"
alert_automaton: .asciz " automaton 0x"
alert_value:     .asciz " value 0x"
alert_origin:    .asciz " origin 0x"
summary_pages:   .asciz "done: pages 0x"
summary_runs:    .asciz " runs 0x"
summary_alerts:  .asciz " alerts 0x"
summary_faults:  .asciz " faults 0x"
summary_cycles:  .asciz " mpu-cycles 0x"
summary_waits:   .asciz " tx-waits 0x"
fatal_message:   .asciz "fatal exception at 0x"
bundle_result:   .asciz "bundle: result 0x"
bundle_version:  .asciz " set version 0x"
