"""The ROM bytes of an lm32-elf firmware (its segment at address 0), the soc target's seed."""
import struct, sys, pathlib
elf, out = pathlib.Path(sys.argv[1]).read_bytes(), pathlib.Path(sys.argv[2])
phoff, phentsize, phnum = struct.unpack(">I", elf[28:32])[0], *struct.unpack(">HH", elf[42:46])
for index in range(phnum):
    kind, offset, vaddr, paddr, filesz = struct.unpack(">IIIII", elf[phoff + index * phentsize:][:20])
    if kind == 1 and paddr == 0:
        out.write_bytes(elf[offset:offset + min(filesz, 4096)])
