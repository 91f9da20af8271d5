#!/usr/bin/env python3
"""Host time of a sweep with a sealed set against the plain one (docs/security.md, "What sealing
costs"): the bundled example dump, five times each, wall time until the summary record arrives.
Plain: the whole `eric run --alerts` (boot included). Sealed: from `eric push --start` to the
summary, on a board serving the control channel with the set pushed. Run from the repository
root after `swift build -c release`."""
import os, socket, subprocess, tempfile, time

ERIC = os.path.abspath(".build/release/eric")
DUMP = os.path.abspath("Fixtures/dumps/example.raw")


def until_summary(sock):
    while True:
        if sock.recv(2048)[5] == 2:
            return time.time()


def main():
    work = tempfile.mkdtemp()
    key, bundle = os.path.join(work, "board.key"), os.path.join(work, "set.bundle")
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([ERIC, "keygen", "-o", key], check=True, **quiet)
    subprocess.run([ERIC, "seal", "--key", key, "--version", "1", "-o", bundle], check=True, **quiet)
    times = {"plain": [], "sealed": []}
    for _ in range(5):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        alerts = f"udp://127.0.0.1:{sock.getsockname()[1]}"
        start = time.time()
        subprocess.run([ERIC, "run", "--alerts", alerts, DUMP], **quiet)
        times["plain"].append(until_summary(sock) - start)
        control = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        control.bind(("127.0.0.1", 0))
        port = control.getsockname()[1]
        control.close()
        board = subprocess.Popen([ERIC, "run", "--control", f"udp://127.0.0.1:{port}", "--key", key, "--alerts", alerts, DUMP], **quiet)
        time.sleep(0.5)
        url = f"udp://127.0.0.1:{port}"
        subprocess.run([ERIC, "push", bundle, url], check=True, **quiet)
        start = time.time()
        subprocess.run([ERIC, "push", url, "--start"], check=True, **quiet)
        times["sealed"].append(until_summary(sock) - start)
        subprocess.run([ERIC, "push", url, "--shutdown"], **quiet)
        board.wait()
    for name, values in times.items():
        print(f"{name}: median {sorted(values)[2] * 1000:.0f} ms ({', '.join(f'{v * 1000:.0f}' for v in values)})")


main()
