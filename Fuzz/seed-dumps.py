"""Small dumps (at most 16 KiB, the target's input size) in each format from pages of the bundled example (its IDT at 0x8000, EPT and
VMCS pages among others), for the dump fuzz target: raw, LiME, ELF core and kdump-compressed."""
import struct, sys, pathlib
src, out = pathlib.Path(sys.argv[1]).read_bytes(), pathlib.Path(sys.argv[2])
pages = src[:0x10000]
(out / "example-16k.raw").write_bytes(pages[:0x4000])
def lime(ranges):
    b = b""
    for start, data in ranges:
        b += struct.pack("<IIQQQ", 0x4C694D45, 1, start, start + len(data) - 1, 0) + data
    return b
(out / "two-ranges.lime").write_bytes(lime([(0x0, pages[:0x1000]), (0x8000, pages[0x8000:0xa000])]))
def elf(ranges):
    phoff, n = 64, len(ranges)
    offset = phoff + 56 * n
    head = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    head += struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, phoff, 0, 0, 64, 56, n, 0, 0, 0)
    table, body = b"", b""
    for start, data in ranges:
        table += struct.pack("<IIQQQQQQ", 1, 0, offset + len(body), start, start, len(data), len(data), 0)
        body += data
    return head + table + body
(out / "two-ranges.elf").write_bytes(elf([(0x0, pages[:0x1000]), (0x8000, pages[0x8000:0xa000])]))
def kdump(frames):
    """makedumpfile's diskdump layout (docs/formats.md): header block, sub-header block, two
    bitmap blocks, descriptors, zlib pages; `frames` maps page frame numbers to page bytes."""
    import zlib
    block, top = 4096, max(frames) + 1
    head = bytearray(block * 4)
    head[0:8] = b"KDUMP   "
    struct.pack_into("<I", head, 8, 6)
    struct.pack_into("<IIII", head, 428, block, 1, 2, top)
    struct.pack_into("<Q", head, block + 96, top)
    for f in range(top):
        head[2 * block + f // 8] |= 1 << (f % 8)
    for f in frames:
        head[3 * block + f // 8] |= 1 << (f % 8)
    descriptors, data = bytearray(), bytearray()
    start = len(head) + 24 * len(frames)
    for f in sorted(frames):
        packed = zlib.compress(frames[f])
        descriptors += struct.pack("<QIIQ", start + len(data), len(packed), 1, 0)
        data += packed
    return bytes(head + descriptors + data)
(out / "two-ranges.kdump").write_bytes(kdump({0: pages[:0x1000], 8: pages[0x8000:0x9000], 9: pages[0x9000:0xa000]}))
