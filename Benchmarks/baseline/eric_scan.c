/* Native baseline for `eric scan`: the page checks of every automaton the sweep runs
 * (automata/NAME.s), written in C, run over a raw dump (offset = physical address), one thread.
 * Prints one line per page-level match ("0xADDRESS automaton/ALERT": the alert that names the
 * structure, not the follow-up requests and operands that come after it) when -v is given, and
 * a summary line. The follow-ups and the correlation are not done here: eric does them on top
 * of the same page checks. Built with the same instruction-set flags as the Swift code. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef uint64_t u64;
static inline u64 q(const unsigned char *p, int o) { u64 v; memcpy(&v, p + o, 8); return v; }
static inline uint32_t d(const unsigned char *p, int o) { uint32_t v; memcpy(&v, p + o, 4); return v; }
static inline uint16_t w(const unsigned char *p, int o) { uint16_t v; memcpy(&v, p + o, 2); return v; }

#define ADDR 0x000ffffffffff000ULL
#define RES46 (0x3fULL << 46)

/* automata/ept-identity.s */
static int ept_identity(const unsigned char *p) {
    u64 e = q(p, 0);
    if (!(e & 1) || (e & 0x1ff000)) return 0;
    u64 predicted = e + 0x1000;
    for (int i = 1; i < 512; i++) {
        e = q(p, i * 8);
        if (!(e & 1)) return 0;
        if ((e ^ predicted) & ADDR) return 0;
        predicted = e + 0x1000;
    }
    return 0x10;
}

static inline int wb_or_uc(u64 e) { return !(e & 0x08) && (((e >> 4) & 1) == ((e >> 5) & 1)); }

/* automata/ept.s */
static int ept(const unsigned char *p) {
    u64 e0 = q(p, 0), e1 = q(p, 8);
    if (e0 == e1 && e0 != 0) return 0;
    unsigned c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    for (int i = 0; i < 512; i++) {
        u64 e = q(p, i * 8);
        if ((e << 1) == 0) continue;            /* empty, or bit 63 alone */
        if (!(e & 7)) return 0;                 /* not present but not empty */
        if ((e & 3) == 2) continue;             /* W without R: MMIO trap entry */
        if (e & RES46) return 0;
        if (e & 0x80) {
            if (!wb_or_uc(e)) return 0;
            if (e & 0x3ffff000) { if (e & 0x1ff000) return 0; c2++; } else c3++;
        } else if (e & 0x78) {
            if (!wb_or_uc(e)) return 0;
            c1++;
        } else {
            if (!(e & ADDR)) return 0;
            c0++;
        }
    }
    if (c0 + c1 + c2 + c3 < 1) return 0;        /* MIN_PRESENT 1: a lone entry counts */
    if (c1) return (c0 + c2 + c3) ? 0 : 0x11;
    if (c2) return 0x12;
    if (c3) return 0x13;
    return 0x14;
}

/* automata/vmcs.s */
static int vmcs(const unsigned char *p) {
    if (d(p, 4) != 0) return 0;
    uint32_t revision = d(p, 0) & 0x7fffffff;
    int link, eptp, cr3, cr4, alert;
    switch (revision) {
    case 0x0e: link = 248; eptp = 232; cr3 = 832; cr4 = 840; alert = 0x20; break;
    case 0x0f: link = 248; eptp = 320; cr3 = 832; cr4 = 840; alert = 0x21; break;
    case 0x10: link = 248; eptp = 232; cr3 = 832; cr4 = 840; alert = 0x22; break;
    case 0x12: link = 248; eptp = 320; cr3 = 816; cr4 = 824; alert = 0x23; break;
    case 0x11e57ed0: link = 176; eptp = 120; cr3 = 592; cr4 = 600; alert = 0x24; break;
    case 0x2b: link = 0x610; eptp = 0x478; cr3 = 0xf18; cr4 = 0xf20; alert = 0x26; break;   /* Bochs */
    default: return 0;
    }
    if (q(p, link) != ~0ULL) {
        for (int o = 8; o < 4096; o += 8) if (q(p, o)) return 0;
        return 0x2f;                             /* VMXON */
    }
    if (!(q(p, cr4) & 0x2000)) return 0;
    u64 host_cr3 = q(p, cr3);
    if (!host_cr3 || (host_cr3 & 0xfff0000000000000ULL)) return 0;
    u64 e = q(p, eptp);
    if (e == 0) return alert;
    if (e & 0xfff0000000000f80ULL) return 0;
    if (!(e & ADDR)) return 0;
    if ((e & 7) != 6 && (e & 7) != 0) return 0;
    if (((e >> 3) & 7) != 3 && ((e >> 3) & 7) != 4) return 0;
    return alert;
}

/* automata/vmcs-generic.s */
static int vmcs_generic(const unsigned char *p) {
    if (d(p, 4) != 0) return 0;
    uint32_t revision = d(p, 0) & 0x7fffffff;
    if (!revision || revision == 0x0e || revision == 0x0f || revision == 0x10 || revision == 0x12 || revision == 0x11e57ed0
        || revision == 0x2b) return 0;
    int empty = 1;
    for (int o = 8; o < 4096 && empty; o += 8) empty = q(p, o) == 0;
    if (empty) return 0x29;                      /* VMXON_GENERIC */
    unsigned ones = 0, cr4 = 0, pages = 0;
    for (int o = 8; o < 4096; o += 8) {
        u64 v = q(p, o);
        if (v == ~0ULL) { ones++; continue; }
        if (!(v & 0xfffffffffe000000ULL) && (v & 0x26a0) == 0x26a0) { cr4++; continue; }
        if (v == 0 || (v & 0xfff0000000000fffULL)) continue;
        pages++;
    }
    return ones && cr4 && pages >= 2 ? 0x28 : 0;
}

/* automata/idt.s */
static int idt(const unsigned char *p) {
    if (!(q(p, 0) & (1ULL << 47))) return 0;
    uint16_t selector = w(p, 2);
    unsigned present = 0;
    for (int g = 0; g < 256; g++) {
        u64 lo = q(p, g * 16), hi = q(p, g * 16 + 8);
        if (!(lo & (1ULL << 47))) { if (lo || hi) return 0; continue; }
        if ((lo & (0x10f8ULL << 32)) || (lo & (0x8e00ULL << 32)) != (0x8e00ULL << 32)) return 0;
        if (lo & 0x70000) return 0;
        if (((lo >> 16) & 0xffff) != selector) return 0;
        if ((hi & 0xffffffff) <= 0xffff7fff) return 0;
        if (hi >> 32) return 0;
        present++;
    }
    return present >= 32 ? 0x30 : 0;
}

/* automata/pml4.s: the kernel half first, then the user half. */
static int pml4(const unsigned char *p, u64 address) {
    unsigned user = 0, kernel = 0, self = 0;
    u64 previous = 0;
    for (int pass = 0; pass < 2; pass++) {
        int first = pass == 0 ? 256 : 0, last = pass == 0 ? 511 : 255;
        for (int i = first; i <= last; i++) {
            u64 e = q(p, i * 8);
            if (!e) continue;
            if ((e & 0x183) != 0x03) return 0;         /* P, RW; PS and G clear */
            if (e & RES46) return 0;
            if (!(e & ADDR)) return 0;
            if (!((e ^ previous) & ADDR)) return 0;
            previous = e;
            if (i >= 256) {                      /* US either way (Linux sets it, Windows not) */
                kernel++;
                if (!((e ^ address) & ADDR)) self++;
            } else {
                if (!(e & 4)) return 0;
                user++;
            }
        }
        if (pass == 0 && (kernel < 4 || kernel > 128)) return 0;
    }
    return self ? 0x41 : 0x40;
}

static const char *name(int alert) {
    switch (alert) {
    case 0x10: return "ept-identity/EPT_IDENTITY_PT";
    case 0x11: return "ept/EPT_PT";
    case 0x12: return "ept/EPT_PD";
    case 0x13: return "ept/EPT_PDPT";
    case 0x14: return "ept/EPT_NONLEAF";
    case 0x20: return "vmcs/VMCS_NEHALEM";
    case 0x21: return "vmcs/VMCS_WESTMERE";
    case 0x22: return "vmcs/VMCS_SANDY_BRIDGE";
    case 0x23: return "vmcs/VMCS_HASWELL";
    case 0x24: return "vmcs/VMCS12_KVM";
    case 0x26: return "vmcs/VMCS_BOCHS";
    case 0x29: return "vmcs-generic/VMXON_GENERIC";
    case 0x28: return "vmcs-generic/VMCS_GENERIC";
    case 0x2f: return "vmcs/VMXON";
    case 0x30: return "idt/IDT64";
    case 0x40: return "pml4/PML4";
    case 0x41: return "pml4/PML4_SELFREF";
    default: return "?";
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int verbose = argc == 3 && strcmp(argv[1], "-v") == 0;
    const char *path = argv[argc - 1];
    if (argc < 2) { fprintf(stderr, "usage: %s [-v] DUMP\n", argv[0]); return 2; }
    double start = now();
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) { perror(path); return 2; }
    size_t pages = st.st_size / 4096;
    const unsigned char *base = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) { perror("mmap"); return 2; }
    madvise((void *)base, st.st_size, MADV_SEQUENTIAL);
    size_t findings = 0;
    for (size_t i = 0; i < pages; i++) {
        const unsigned char *p = base + i * 4096;
        u64 address = (u64)i * 4096;
        int alerts[6] = { ept_identity(p), ept(p), idt(p), pml4(p, address), vmcs_generic(p), vmcs(p) };
        for (int k = 0; k < 6; k++) {
            if (!alerts[k]) continue;
            findings++;
            if (verbose) printf("0x%llx %s\n", (unsigned long long)address, name(alerts[k]));
        }
    }
    double elapsed = now() - start;
    fprintf(stderr, "native C: %zu pages, %zu findings, %.4f s, %.2f GB/s\n", pages, findings, elapsed, pages * 4096.0 / elapsed / 1e9);
    return findings ? 1 : 0;
}
