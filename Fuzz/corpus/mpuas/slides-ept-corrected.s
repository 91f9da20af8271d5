start:
  loadw r2, $0x1000 // Maximum page offset
  loadw r3, $0x3 // Maximum expected Hamming distance : 2 + 1
  loadd r6_0, $0xfffff000 // Bit select for Hamming distance
 loadd r6_1, $0x0000000f
 loadw r7, $no_ept_end
 loadw r8, $entry
 loadw r9, $ept_end
  loadb r10, $0x8 // Increment
entry:
  infw r1, r2, r9 // Loop stop condition
 movq r5, r4 // Remember the last entry
 mloadq r4, r1 // Load the current entry
 hammq r10, r4, r5, r6 // Compute Hamming distance
 infb r10, r3, r7 // Is Hamming < 3 ?
  add r1, r1, r10 // Go to next entry
  jmpw r8 // Loop
ept_end:
  intq r3 // Notifies that EPT 4k page table entry is found
no_ept_end:
  intq r0 // intq $0x0, end of execution
