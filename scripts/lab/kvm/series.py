#!/usr/bin/env python3
"""Writes series.json for a time series made by kvmguest -DSERIES (make.sh kvm-series): the
snapshots in order, each dump's file and digest, the patch the driver made, and for each step
the verdicts `eric check` must give with the previous snapshot as its baseline. The verdicts
come from what the series did between the two dumps (kvmguest.c's series(), the driver's
patch), not from eric.

usage: series.py OUTDIR series.json
"""
import hashlib, json, os, sys

out, path = sys.argv[1], sys.argv[2]
names = [line.strip() for line in open(os.path.join(out, "snapshots.txt")) if line.strip()]

# What happened between each snapshot and the next, and what that must be called
# (docs/integrity.md): the hypervisor's verdict, and one verdict per VM by kind.
STEPS = {
    "kvm-loaded": ("kvm_intel loaded, no VM created (no VMXON yet, no VMCS)",
                   "no-hypervisor", {}),
    "vm1": ("a VM of 2 vCPUs created and run: VMXON, two VMCS, an EPT",
            "new-hypervisor", {"new-vm": 1}),
    "vm1-later": ("the VM ran 1,000 more I/O exits: guest state and exit information changed",
                  "evolved", {"evolved": 1}),
    "vm2": ("a second VM of 2 vCPUs created; both ran",
            "evolved", {"evolved": 1, "new-vm": 1}),
    "vm1-destroyed": ("the first VM destroyed (its VMCS cleared, its EPT torn down); the second ran on",
                      "evolved", {"vm-removed": 1, "evolved": 1}),
    "vms-stopped": ("the second VM destroyed too: no live VMCS",
                    "disabled", {"vm-removed": 1}),
    "patched": ("5 bytes of kvm_intel's code at HOST_RIP overwritten from the debugger (a jmp hook)",
                "modified", {}),
}

snapshots = []
for name in names:
    f = os.path.join(out, f"snap-{name}.raw")
    h = hashlib.sha256()
    with open(f, "rb") as g:
        for block in iter(lambda: g.read(1 << 20), b""):
            h.update(block)
    snapshots.append({"name": name, "file": os.path.relpath(f, os.path.dirname(os.path.abspath(path))),
                      "sha256": h.hexdigest()})
steps = []
for before, after in zip(names, names[1:]):
    what, hypervisor, vms = STEPS[after]
    steps.append({"baseline": before, "check": after, "what": what, "hypervisor": hypervisor, "vms": vms})
patch = json.load(open(os.path.join(out, "patch.json"))) if os.path.exists(os.path.join(out, "patch.json")) else None
json.dump({"snapshots": snapshots, "steps": steps, "patch": patch}, open(path, "w"), indent=1)
print(json.dumps(steps, indent=1))
