#!/usr/bin/env python3
"""Seeds for the `control` fuzz target: sequences of control frames (docs/protocol.md,
"Control") as an operator or a verifier sends them to the board, each a 2-byte big-endian
length and the Ethernet frame.

    python3 Fuzz/seed-control.py OUT_DIR [BUNDLE]
"""
import hashlib, hmac, os, struct, sys

# The fuzz target's device key (bytes 0-31) and boot nonce (1): evidence requests signed as a
# verifier signs them (HKDF-SHA256, salt "ERIC device key", info "control requests"; then
# HMAC-SHA256/128 over the nonce and the request), so that the fuzzer starts past the check.
def hkdf(key, salt, info):
    prk = hmac.new(salt, key, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()

REQUEST_KEY = hkdf(bytes(range(32)), b"ERIC device key", b"control requests")
NONCE = 1

DEVICE_MAC = bytes([0x10, 0xe2, 0xd5, 0x00, 0x00, 0x00])
OPERATOR_MAC = bytes([0x02, 0, 0, 0, 0, 0x01])

def checksum(data):
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff

def frame(kind, sequence, argument=0, data=b"", port=17747, signed=False):
    payload = b"ERIC" + bytes([1, kind, 0, 0]) + struct.pack(">II", sequence, argument) + data
    if signed:
        payload += hmac.new(REQUEST_KEY, struct.pack(">Q", NONCE) + payload, hashlib.sha256).digest()[:16]
    udp = struct.pack(">HHHH", 40000, port, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                               bytes([192, 168, 0, 14]), bytes([192, 168, 0, 42])))
    ip[10:12] = struct.pack(">H", checksum(bytes(ip)))
    return DEVICE_MAC + OPERATOR_MAC + b"\x08\x00" + bytes(ip) + udp

def sequence_file(path, frames):
    with open(path, "wb") as out:
        for f in frames:
            out.write(struct.pack(">H", len(f)) + f)

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
address = lambda a: struct.pack(">Q", a)
sequence_file(f"{out}/status-mode.bin", [frame(0x14, 1), frame(0x15, 2, 1), frame(0x15, 3, 7), frame(0x15, 4, 0)])
sequence_file(f"{out}/evidence.bin", [frame(0x17, 1, 0, signed=True), frame(0x17, 2, 5, signed=True), frame(0x16, 3, 0, address(0x8000), signed=True),
                                      frame(0x16, 4, 0, address(0x8200), signed=True), frame(0x16, 5, 0, address(0xffff_ffff_ffff_fc00), signed=True),
                                      frame(0x18, 6, 0, address(0x9000), signed=True), frame(0x18, 7, 0, address(0x9400), signed=True),
                                      frame(0x16, 8, 0, b"\0\0"), frame(0x16, 9, 0, address(0x8000) + bytes(16))])
sequence_file(f"{out}/start-shutdown.bin", [frame(0x12, 1), frame(0x14, 2), frame(0x13, 3)])
sequence_file(f"{out}/not-control.bin", [frame(0x14, 1, port=17746), frame(0x99, 2), frame(0x14, 3)[:40], b"\xff" * 60])
if len(sys.argv) > 2:
    bundle = open(sys.argv[2], "rb").read()
    padded = bundle + bytes(-len(bundle) % 4)
    loads = [frame(0x10, 1 + i, offset, padded[offset:offset + 1024]) for i, offset in enumerate(range(0, len(padded), 1024))]
    sequence_file(f"{out}/load-commit-start.bin", loads + [frame(0x11, 100, len(bundle)), frame(0x12, 101), frame(0x16, 102, 0, address(0x8000), signed=True)])
