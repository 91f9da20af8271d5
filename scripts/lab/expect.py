#!/usr/bin/env python3
"""Turns a lab folder's truth.json (what the emulator said: registers, VMX state) into the
structures every scan of its dumps must report, one list per dump file: lab/expected.json.

usage: expect.py LABDIR [LABDIR ...] -o expected.json

Nothing here uses the project's automata: every structure comes from the CPU state the emulator
reported (QEMU's registers, Bochs's VMX pointers) and from walking the page tables that state
names, as the CPU would.
  idt    the page of every vCPU's IDTR base (QEMU: gva2gpa; KVM host: HOST_IDTR_BASE walked
         through HOST_CR3)
  pml4   every vCPU's CR3 (KVM host: HOST_CR3), and every other page whose kernel half (entries
         256-511) is the same as a known root's: Linux copies the kernel half into every
         process's root at fork and keeps it in sync, so those pages are the other processes'
         roots (live, or freed but not yet reused); with page-table isolation (pti=on), each
         such kernel root's user root 4 KiB above it too
  vmcs   the VMCS of every vCPU (Bochs's current VMCS and the revision-id scan of analyze.py,
         decoded with Bochs's layout; launch state 1)
  vmxon  Bochs's VMXON pointer
  ept    every table reached from a VMCS's EPTP, with its level (4 PML4 .. 1 PT)
"""
import json, os, struct, sys

PAGE = 4096
ADDR = 0x000FFFFFFFFFF000


class Memory:
    """A flat raw image: file offset = physical address."""

    def __init__(self, path):
        self.data = open(path, "rb").read()

    def q(self, pa):
        if pa + 8 > len(self.data):
            return 0
        return struct.unpack_from("<Q", self.data, pa)[0]

    def table(self, pa):
        return struct.unpack_from("<512Q", self.data, pa) if pa + PAGE <= len(self.data) else (0,) * 512


def walk_x86(mem, cr3, va):
    """Physical address of va under the 4-level tables at cr3, or None."""
    table = cr3 & ADDR
    for level, shift in ((4, 39), (3, 30), (2, 21), (1, 12)):
        entry = mem.q(table + ((va >> shift) & 511) * 8)
        if not entry & 1:
            return None
        if level in (3, 2) and entry & 0x80:
            size = 1 << shift
            return (entry & ADDR & ~(size - 1)) | (va & (size - 1))
        table = entry & ADDR
    return table | (va & 0xFFF)


def shared_kernel_half(mem, roots):
    """Pages whose entries 256-511 equal a known root's (and are not all zero)."""
    halves = {mem.table(r)[256:] for r in roots}
    halves.discard((0,) * 256)
    found = set()
    for pa in range(0, len(mem.data) - PAGE + 1, PAGE):
        if mem.data[pa + 2048:pa + PAGE] and mem.table(pa)[256:] in halves:
            found.add(pa)
    return found


def ept_tables(mem, eptp):
    """{table page: level} of the EPT hierarchy under eptp (4-level)."""
    levels = {}
    todo = [(eptp & ADDR, 4)]
    while todo:
        pa, level = todo.pop()
        if pa in levels or pa + PAGE > len(mem.data):
            continue
        levels[pa] = level
        if level == 1:
            continue
        for entry in mem.table(pa):
            if entry & 7 == 0 or (level in (3, 2) and entry & 0x80):
                continue
            todo.append((entry & ADDR, level - 1))
    return levels


def item(kind, page, why, **extra):
    return dict(kind=kind, page=hex(page), why=why, **extra)


def linux_lab(folder, truth):
    out = {}
    for name, dump in truth["dumps"].items():
        raw = os.path.join(folder, dump["files"]["raw"]["path"])
        mem = Memory(raw)
        items = []
        idts = sorted({int(v["idt"]["phys_page"], 16) for v in dump["vcpus"]})
        for p in idts:
            items.append(item("idt", p, "IDTR base of a vCPU (QEMU gva2gpa)"))
        cr3s = sorted({int(v["pml4_phys"], 16) for v in dump["vcpus"]})
        for p in cr3s:
            items.append(item("pml4", p, "CR3 of a vCPU (QEMU registers)", required=True))
        # With page-table isolation every process has two roots in one 8 KiB-aligned pair: the
        # kernel's, then the user's (kernel half empty but for the entry trampolines), which CR3
        # holds while the process runs in user mode. The kernel halves compare on the kernel roots.
        pti = "pti=on" in (dump["kernel"].get("cmdline") or "")
        kernel_roots = sorted({p & ~0x1000 for p in cr3s}) if pti else cr3s
        others = shared_kernel_half(mem, kernel_roots) | set(kernel_roots)
        if pti:
            others |= {p | 0x1000 for p in others}
        for p in sorted(others - set(cr3s)):
            if pti and p & 0x1000:
                why = "the user root paired with a kernel root (page-table isolation)"
            elif p in kernel_roots:
                why = "the kernel root paired with a vCPU's user root (page-table isolation)"
            else:
                why = "kernel half identical to a vCPU's CR3 root"
            items.append(item("pml4", p, why, required=False))
        for fmt, f in dump["files"].items():
            out[os.path.join(folder, f["path"])] = dict(lab="linux", dump=name, format=fmt, structures=items)
    return out


def kvm_lab(folder, truth):
    raw = os.path.join(folder, truth["dump"]["file"])
    mem = Memory(raw)
    items = []
    vmcs = truth["vmcs"]
    host_cr3 = {int(v["HOST_CR3"], 16) & ADDR for v in vmcs}
    # A VMCS whose launch state is clear is a destroyed VM's (KVM VMCLEARs it before freeing
    # the page, and Linux does not clear freed pages): still a VMCS to find, a stale one.
    def stale(v):
        return v.get("launch_state", 1) == 0
    for v in vmcs:
        items.append(item("vmcs", int(v["pa"], 16), "VMCS of VPID %s (Bochs, layout decoded)%s" % (v["VPID"], ", stale: launch state clear" if stale(v) else ""),
                          revision=truth["vmx"]["vmcs_revision_id"]))
    items.append(item("vmxon", int(truth["vmx"]["bochs_cpu_state_at_dump"]["vmxonptr"], 16), "Bochs's VMXON pointer"))
    idts = set()
    for v in vmcs:
        idt = walk_x86(mem, int(v["HOST_CR3"], 16), int(v["HOST_IDTR_BASE"], 16))
        if idt is not None:
            idts.add(idt & ~0xFFF)
    for p in sorted(idts):
        items.append(item("idt", p, "HOST_IDTR_BASE walked through HOST_CR3"))
    for p in sorted(host_cr3):
        items.append(item("pml4", p, "HOST_CR3 of the VMCS", required=True))
    for p in sorted(shared_kernel_half(mem, host_cr3) - host_cr3):
        items.append(item("pml4", p, "kernel half identical to HOST_CR3's root", required=False))
    eptps = {int(v["EPT_POINTER"], 16) for v in vmcs if int(v["EPT_POINTER"], 16)}
    live_eptps = {int(v["EPT_POINTER"], 16) for v in vmcs if int(v["EPT_POINTER"], 16) and not stale(v)}
    levels, live = {}, {}
    for eptp in eptps:
        levels.update(ept_tables(mem, eptp))
    for eptp in live_eptps:
        live.update(ept_tables(mem, eptp))
    expected = sorted(int(p, 16) for p in truth["ept"]["paging_structure_pages"])
    if sorted(levels) != expected:
        raise SystemExit("EPT walk %s disagrees with truth.json %s" % (sorted(map(hex, levels)), list(map(hex, expected))))
    # The tables a stale VMCS's EPTP still reaches are remnants (freed, not yet reused): found
    # or not, neither missed nor false; every live hierarchy's table must be found.
    for p, level in sorted(levels.items()):
        if p in live:
            items.append(item("ept", p, "reached from the EPTP", level=level))
        else:
            items.append(item("ept", p, "reached from a stale VMCS's EPTP only (a destroyed VM's freed table)", level=level, required=False))
    name = "vmxdump" if os.path.basename(os.path.normpath(folder)) == "kvm" else "vmxdump-" + os.path.basename(os.path.normpath(folder))
    return {raw: dict(lab="kvm", dump=name, format="raw", structures=items)}


def main():
    args = sys.argv[1:]
    if "-o" not in args:
        raise SystemExit(__doc__)
    i = args.index("-o")
    target = args[i + 1]
    folders = args[:i] + args[i + 2:]
    result = {}
    for folder in folders:
        truth = json.load(open(os.path.join(folder, "truth.json")))
        result.update(linux_lab(folder, truth) if "dumps" in truth else kvm_lab(folder, truth))
    with open(target, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    for path, d in sorted(result.items()):
        kinds = {}
        for s in d["structures"]:
            kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
        print("%s: %s" % (os.path.basename(path), ", ".join("%d %s" % (n, k) for k, n in sorted(kinds.items()))))


main()
