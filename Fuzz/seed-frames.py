"""Each Ethernet frame of a pcap capture as a file (the alert-record fuzz target's seeds)."""
import struct, sys, pathlib
data, out = pathlib.Path(sys.argv[1]).read_bytes(), pathlib.Path(sys.argv[2])
at, index = 24, 0
while at + 16 <= len(data) and index < 8:
    caplen = struct.unpack("<I", data[at + 8:at + 12])[0]
    (out / f"frame-{index}.bin").write_bytes(data[at + 16:at + 16 + caplen])
    at += 16 + caplen
    index += 1
