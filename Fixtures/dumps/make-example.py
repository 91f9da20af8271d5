#!/usr/bin/env python3
"""Writes example.raw: 1 MiB of host memory (raw: offset = physical address) for the README's
example scan. Deterministic. Pages: zero, random, text, two EPT page tables that identity-map
2 MiB regions (at 0x10000 and 0x80000), and near misses that must not match: a table whose
entry 300 skips a page (0x20000), one with an unreadable entry (0x30000), one whose first
address is not 2 MiB aligned (0x40000), and a page of one repeated entry (0x50000)."""
import random
import struct

PAGE = 4096
rng = random.Random(2014)
pages = []
text = b"ERIC checks the hypervisor from outside the CPU. " * 100


def table(first, flags=0x37, skip_at=None, unreadable_at=None):
    entries = []
    for i in range(512):
        address = first + (i + (1 if skip_at is not None and i >= skip_at else 0)) * 0x1000
        entry = address | flags
        if i == unreadable_at:
            entry &= ~1
        entries.append(entry)
    return struct.pack("<512Q", *entries)


for index in range(256):
    address = index * PAGE
    if address == 0x10000:
        page = table(0x4000_0000)
    elif address == 0x80000:
        page = table(0x1_2340_0000, flags=0x7)
    elif address == 0x20000:
        page = table(0x4020_0000, skip_at=300)
    elif address == 0x30000:
        page = table(0x4040_0000, unreadable_at=77)
    elif address == 0x40000:
        page = table(0x4060_1000)
    elif address == 0x50000:
        page = struct.pack("<Q", 0x4080_0037) * 512
    elif index % 4 == 1:
        page = bytes(rng.getrandbits(8) for _ in range(PAGE))
    elif index % 4 == 2:
        page = text[(index * 13) % 1000:][:PAGE].ljust(PAGE, b" ")
    else:
        page = bytes(PAGE)
    pages.append(page)

with open("example.raw", "wb") as out:
    out.write(b"".join(pages))
