# The LM32 speed benchmark (Benchmarks/lm32.sh): 10 instructions per iteration with a load,
# two stores, a call, a return and a taken branch; exits through newlib's exit (scall, r8 = 1)
# with the low byte of sum(1..ITERATIONS), so both simulators' answers can be checked.
	.global _fstack
	.set _fstack, 0xffff0		# gdb's simulator sizes its memory from this symbol
	.text
	.global _start
_start:
	mvi r1, 0
	mvhi r5, hi(ITERATIONS)
	ori r5, r5, lo(ITERATIONS)
	mvhi sp, hi(stack)
	ori sp, sp, lo(stack)
loop:
	lw r2, (sp+0)
	addi r2, r2, 1
	sw (sp+0), r2
	calli f
	addi r1, r1, 1
	bne r1, r5, loop
	lw r1, (sp+4)
	mvi r8, 1
	scall
f:
	lw r3, (sp+4)
	add r3, r3, r2
	sw (sp+4), r3
	ret
	.data
	.align 4
stack:	.word 0, 0
