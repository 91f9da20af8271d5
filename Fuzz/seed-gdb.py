"""A debugger's session as GDB sends it, framed ($payload#checksum), for the gdb-remote
fuzz target: the packets lm32-elf-gdb sends when it connects, reads, steps and continues."""
import sys, pathlib
def frame(p): return b"$" + p + b"#%02x" % (sum(p) & 0xff)
out = pathlib.Path(sys.argv[1])
session = [b"qSupported:multiprocess+;swbreak+", b"?", b"g", b"p20", b"m0,40", b"M100,4:3401002a",
           b"X104,4:\x34\x01\x00\x2a", b"Z0,8,4", b"s", b"c", b"z0,8,4", b"P1=0000002a", b"G" + b"00" * 156, b"D", b"k"]
(out / "session.bin").write_bytes(b"+".join(frame(p) for p in session) + b"\x03")
(out / "escapes.bin").write_bytes(frame(b"X0,2:}\x03}\x04") + b"-" + frame(b"m0,4") + b"$bad#00")
