#!/usr/bin/env python3
"""Scores scans of the lab's dumps against lab/expected.json (scripts/lab/expect.py).

usage: fidelity.py EXPECTED.json [--eric PATH] [--soc] [--markdown] [--volatility]

For every dump file and every kind of structure (idt, pml4, vmcs, vmxon, ept) prints
present / found / missed / false, where
  present  the structures expected.json lists (for pml4: the vCPUs' CR3s; the other roots it
           lists may be found or not, but are not false)
  found    findings on an expected page (and, for ept, at the expected level)
  missed   expected and required, not found
  false    findings of that kind on any other page (or at another EPT level)
Exit status 1 when anything is missed or false. --volatility also runs Volatility 3's
vmscan on each raw dump and scores its VMCS hits the same way.
"""
import json, os, subprocess, sys

KINDS = ["idt", "pml4", "vmcs", "vmxon", "ept"]


def kind_of(finding):
    name = finding.get("name") or ""
    if name.startswith("IDT"):
        return "idt"
    if name.startswith("PML4"):
        return "pml4"
    if name == "VMXON":
        return "vmxon"
    if name.startswith("VMCS"):
        return "vmcs"
    if name.startswith("EPT"):
        return "ept"
    return None


def eric_findings(eric, path, soc):
    cmd = [eric, "scan", "--json"] + (["--soc"] if soc else []) + [path]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode not in (0, 1):
        raise SystemExit("%s: exit %d: %s" % (" ".join(cmd), run.returncode, run.stderr.strip()))
    found = []
    for line in run.stdout.splitlines():
        record = json.loads(line)
        if record.get("type") == "finding":
            found.append(record)
    return found


def volatility_vmcs(path):
    """Pages Volatility 3's vmscan reports as VMCS (None when vol is not installed)."""
    try:
        run = subprocess.run(["vol", "-q", "-r", "json", "-f", path, "vmscan.Vmscan"],
                             capture_output=True, text=True, timeout=1800)
    except FileNotFoundError:
        return None
    try:
        rows = json.loads(run.stdout)
    except ValueError:
        return []
    pages = []
    for row in rows:
        for key in ("Physical Address", "Offset", "VMCS Offset"):
            if key in row:
                pages.append({"name": "VMCS", "page": int(row[key]) & ~0xFFF})
                break
    return pages


def score(expected, findings):
    rows = {}
    for kind in KINDS:
        want = [s for s in expected if s["kind"] == kind]
        pages = {int(s["page"], 16): s for s in want}
        required = {p for p, s in pages.items() if s.get("required", True)}
        got = [f for f in findings if kind_of(f) == kind]
        hit, false = set(), []
        for f in got:
            s = pages.get(f["page"])
            level_ok = s is not None and ("level" not in s or f.get("level") == s["level"])
            if s is not None and level_ok:
                hit.add(f["page"])
            else:
                false.append(f)
        missed = sorted(required - hit)
        rows[kind] = dict(present=len(required), found=len(hit & required), also=len(hit - required),
                          missed=missed, false=false)
    return rows


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    expected = json.load(open(args[0]))
    eric = args[args.index("--eric") + 1] if "--eric" in args else "eric"
    soc, markdown, vol = "--soc" in args, "--markdown" in args, "--volatility" in args
    bad = 0
    if markdown:
        print("| dump | format | structure | present | found (eric) | false (eric) |" + (" found (vmscan) | false (vmscan) |" if vol else ""))
        print("|---|---|---|---|---|---|" + ("---|---|" if vol else ""))
    for path, d in sorted(expected.items()):
        if not os.path.exists(path):
            print("%s: missing (make the lab first)" % path, file=sys.stderr)
            bad += 1
            continue
        rows = score(d["structures"], eric_findings(eric, path, soc))
        vrows = None
        if vol and d["format"] == "raw":
            v = volatility_vmcs(path)
            vrows = score(d["structures"], v) if v is not None else None
        for kind in KINDS:
            r = rows[kind]
            bad += len(r["missed"]) + len(r["false"])
            found = "%d" % r["found"] + (" (+%d other roots)" % r["also"] if r["also"] else "")
            if markdown:
                line = "| %s | %s | %s | %d | %s | %d |" % (d["dump"], d["format"], kind, r["present"], found, len(r["false"]))
                if vol:
                    if vrows and kind == "vmcs":
                        line += " %d | %d |" % (vrows[kind]["found"], len(vrows[kind]["false"]))
                    else:
                        line += " - | - |"
                print(line)
            else:
                print("%-22s %-5s %-6s present %3d  found %-22s missed %d  false %d" % (
                    d["dump"], d["format"], kind, r["present"], found, len(r["missed"]), len(r["false"])))
                for p in r["missed"]:
                    print("    missed %s %#x" % (kind, p))
                for f in r["false"][:20]:
                    print("    false  %s %#x %s%s" % (kind, f["page"], f.get("name"),
                                                    " level %s" % f["level"] if "level" in f else ""))
    sys.exit(1 if bad else 0)


main()
