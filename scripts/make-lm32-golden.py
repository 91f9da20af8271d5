#!/usr/bin/env python3
"""Makes Fixtures/lm32/golden.txt with the reference lm32-elf tools (built by
scripts/build-lm32-toolchain.sh): every LM32 instruction and operand form as source, the word
GNU as makes of it, and the text GNU objdump prints for that word (binary mode, addresses from
0). The tests check the repository's assembler and disassembler against it without the tools.
   python3 scripts/make-lm32-golden.py [TOOLCHAIN_DIR]"""
import os, pathlib, subprocess, sys, tempfile

root = pathlib.Path(__file__).resolve().parent.parent
tools = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/eric/lm32-toolchain")) / "bin"
regs = ["r0", "r1", "r7", "r25", "gp", "fp", "sp", "ra", "ea", "ba"]
lines = []
rr = ["add", "sub", "and", "or", "xor", "nor", "xnor", "sl", "sr", "sru", "mul", "divu", "modu",
      "cmpe", "cmpne", "cmpg", "cmpge", "cmpgu", "cmpgeu"]
for op in rr:
    for x, y, z in [("r1", "r2", "r3"), ("r0", "r31", "r16"), ("sp", "gp", "fp"), ("ba", "ea", "ra")]:
        lines.append(f"{op} {x},{y},{z}")
signed = ["addi", "muli", "cmpei", "cmpnei", "cmpgi", "cmpgei"]
unsigned = ["andi", "ori", "xori", "nori", "xnori", "cmpgui", "cmpgeui", "andhi", "orhi"]
for op in signed:
    for imm in ["0", "1", "-1", "32767", "-32768", "0x7f"]:
        lines.append(f"{op} r1,r2,{imm}")
for op in unsigned:
    for imm in ["0", "1", "0xffff", "0x8000", "4660"]:
        lines.append(f"{op} r3,r4,{imm}")
for op in ["sli", "sri", "srui"]:
    for imm in ["0", "1", "31"]:
        lines.append(f"{op} r5,r6,{imm}")
for op in ["lb", "lbu", "lh", "lhu", "lw"]:
    for base, off in [("r1", "0"), ("sp", "8"), ("fp", "-4"), ("r9", "32767"), ("gp", "-32768")]:
        lines.append(f"{op} r2,({base}+{off})")
for op in ["sb", "sh", "sw"]:
    for base, off in [("r1", "0"), ("sp", "-4"), ("r9", "32767"), ("gp", "-32768")]:
        lines.append(f"{op} ({base}+{off}),r2")
for op in ["sextb", "sexth"]:
    lines += [f"{op} r9,r10", f"{op} sp,ra"]
for r in regs:
    lines += [f"b {r}", f"call {r}"]
lines += ["ret", "eret", "bret", "scall", "break", "nop"]
lines += ["mv r1,r2", "mv sp,fp", "mvi r1,-1", "mvi r2,32767", "mvu r3,0xbeef", "mvhi r4,0x1234", "not r1,r2"]
lines += ["mvhi r1,hi(0x12345678)", "ori r1,r1,lo(0x12345678)", "mvhi r1,hi(0xdeadbeef)", "ori r1,r1,lo(0xdeadbeef)"]
lines += ["user r1,r2,r3,0", "user r1,r2,r3,0x7ff", "user ba,ea,ra,5"]
csrs = ["IE", "IM", "IP", "ICC", "DCC", "CC", "CFG", "EBA", "DC", "DEBA", "JTX", "JRX",
        "BP0", "BP1", "BP2", "BP3", "WP0", "WP1", "WP2", "WP3", "CFG2"]
for c in csrs:
    lines += [f"rcsr r7,{c}", f"wcsr {c},r7"]
# Branches to labels before and after: offsets from the branch itself.
body = ["back:"] + [f"    {l}" for l in lines]
for op in ["be", "bne", "bg", "bge", "bgu", "bgeu"]:
    body += [f"    {op} r1,r2,back", f"    {op} sp,ra,fwd"]
body += ["    bi back", "    bi fwd", "    calli back", "    calli fwd", "fwd:", "    nop"]
source = "\n".join(body) + "\n"

with tempfile.TemporaryDirectory() as work:
    s, o, b = (os.path.join(work, n) for n in ("g.s", "g.o", "g.bin"))
    open(s, "w").write(source)
    subprocess.run([tools / "lm32-elf-as", "-o", o, s], check=True)
    subprocess.run([tools / "lm32-elf-objcopy", "-O", "binary", "-j", ".text", o, b], check=True)
    dump = subprocess.run([tools / "lm32-elf-objdump", "-b", "binary", "-m", "lm32", "-EB", "-D", b],
                          check=True, capture_output=True, text=True).stdout
    words = []
    for line in dump.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0].strip().endswith(":"):
            words.append((int(parts[0].strip()[:-1], 16), parts[1].replace(" ", "").strip(), parts[2].strip()))
    statements = [l.strip() for l in body if not l.endswith(":")]
    assert len(statements) == len(words), (len(statements), len(words))
    out = ["# LM32 golden vectors made by scripts/make-lm32-golden.py with GNU binutils 2.40 for lm32-elf",
           "# built from Debian's binutils-source: address <TAB> source <TAB> word <TAB> objdump -b binary text"]
    for statement, (address, word, text) in zip(statements, words):
        out.append(f"{address:04x}\t{statement}\t{word}\t{text}")
    (root / "Fixtures/lm32/golden.txt").write_text("\n".join(out) + "\n")
    print(f"{len(words)} vectors")
