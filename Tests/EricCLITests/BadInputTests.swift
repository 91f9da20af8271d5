import Foundation
import TestSupport
import Testing

/// Every reproducer of Fixtures/bad-inputs (inputs that crashed, hung, ballooned or were
/// called clean): each now ends with its exact located message and exit status. Expected
/// texts were worked out from the inputs (their header bytes, addresses and sizes).
@Suite struct BadInputTests {
    static let folder = packageRoot.appendingPathComponent("Fixtures/bad-inputs")

    func run(_ tool: String, _ arguments: [String]) throws -> Run { try Run(tool, arguments, in: Self.folder) }

    static let elfTop = "elf-paddr-top.elf: warning: at byte 64: PT_LOAD 0 [0xfffffffffffff000, +0x1000) ends above 2^52, the widest physical address of x86-64; skipped (4096 bytes not scanned)\n"
    static let limeTop = "lime-end-max.lime: warning: at byte 16: LiME range [0xfffffffffffff000, 0xffffffffffffffff] ends above 2^52, the widest physical address of x86-64; skipped (4096 bytes not scanned)\n"

    /// Ranges ending at or past 2^64 overflowed `start + length`: now refused as damage (the
    /// 64-byte ELF header puts program header 0 at byte 64; LiME's end field is at byte 16).
    @Test func rangesNear2To64AreRefusedNotOverflowed() throws {
        let nothing = " error: nothing to scan: no whole 4 KiB page in the dump (it holds nothing)\n"
        for mode in [["scan"], ["scan", "--soc"]] {
            let elf = try run("eric", mode + ["elf-paddr-top.elf"])
            #expect(elf.status == 2 && elf.stderr == Self.elfTop + "elf-paddr-top.elf:" + nothing, "\(elf.stderr)")
        }
        let lime = try run("eric", ["scan", "lime-end-max.lime"])
        #expect(lime.status == 2 && lime.stderr == Self.limeTop + "lime-end-max.lime:" + nothing, "\(lime.stderr)")
        let soc = try run("eric", ["run", "lime-end-max.lime"])
        #expect(soc.status == 2 && soc.stderr == Self.limeTop + "lime-end-max.lime:" + nothing, "\(soc.stderr)")
        let trace = try run("eric", ["trace", "--automaton", "idt", "--page", "0xfffffffffffff000", "lime-end-max.lime"])
        #expect(trace.status == 2 && trace.stderr == Self.limeTop + "lime-end-max.lime: error: no whole page at 0xfffffffffffff000 in the dump (it holds nothing)\n")
        let example = try run("eric", ["trace", "--automaton", "idt", "--page", "0xfffffffffffff000", "../dumps/example.raw"])
        #expect(example.status == 2 && example.stderr == "../dumps/example.raw: error: no whole page at 0xfffffffffffff000 in the dump (it holds 0x0-0x140000)\n")
    }

    /// Two PT_LOADs with p_filesz 2^63 overflowed the summary's sum. The bytes they leave out
    /// are what the file holds from their offsets (8192 from byte 0x1000 and 4096 from 0x2000
    /// of the 12 KiB file); the scan of the rest is clean but partial: exit 3.
    @Test func hugeSegmentSizesAreCountedByWhatTheFileHolds() throws {
        let scan = try run("eric", ["scan", "elf-skipped-sum.elf"])
        #expect(scan.status == 3)
        #expect(scan.stderr == """
            elf-skipped-sum.elf: warning: at byte 120: PT_LOAD 1 has p_filesz 9223372036854775808 != p_memsz 4096; skipped (8192 bytes not scanned)
            elf-skipped-sum.elf: warning: at byte 176: PT_LOAD 2 has p_filesz 9223372036854775808 != p_memsz 4096; skipped (4096 bytes not scanned)
            elf-skipped-sum.elf: warning: no findings in what was read, but 12288 bytes of the dump were unreadable (see the warnings; exit status 3)

            """)
        #expect(scan.stdout.contains("12288 bytes unreadable"))
    }

    /// Found by the dump fuzz target (2026-12-05): e_phnum PN_XNUM sends the reader to section
    /// header 0 for the count, at e_shoff + 44; an e_shoff of 2^64 - 1 wrapped that sum (an
    /// arithmetic overflow trap). The header is 70 bytes: no section header can be there.
    @Test func sectionHeaderOffsetNearTheTopIsAnError() throws {
        let scan = try run("eric", ["scan", "elf-pn-xnum-shoff-wrap.elf"])
        #expect(scan.status == 2)
        #expect(scan.stderr == "elf-pn-xnum-shoff-wrap.elf: error: at byte 40: e_phnum is PN_XNUM but section header 0 at byte 18446744073709551615 is missing\n")
    }

    /// A record time stamp with the top bit set is a time after 2038, not a crash; a capture
    /// cut inside its last record still shows the 21 good records before it.
    @Test func capturesWithOddStampsOrATruncatedEnd() throws {
        let stamped = try run("eric", ["listen", "pcap-negative-ts.pcap"])
        #expect(stamped.status == 0 && stamped.stderr.isEmpty && stamped.stdout.hasPrefix("alert #0: page 0x8000 idt IDT64"), "\(stamped.stderr)")
        let truncated = try run("eric", ["listen", "pcap-truncated-last-record.pcap"])
        #expect(truncated.status == 2)
        #expect(truncated.stderr == "pcap-truncated-last-record.pcap: error: frame 22: truncated dump file; tried to read 98 captured bytes, only got 66 (the 21 frames before it are shown)\n")
        #expect(truncated.stdout.split(separator: "\n").count == 21)
    }

    /// LM32 programs that crashed the simulator: each access is a bus error, and the bare
    /// environment stops there as lm32-elf-run does (it prints "core: 4 byte misaligned write
    /// to address 0x1 at 0x4" for the first, and stops with SIGBUS).
    @Test func lm32BusErrorsStopWithTheAccess() throws {
        let cases = [
            ("lm32-misaligned-store.elf", "4-byte misaligned write to 0x1 at pc 0x4", "0x80"),
            ("lm32-misaligned-jump.elf", "4-byte misaligned instruction fetch from 0x2 at pc 0x2", "0x40"),
            ("lm32-load-0xffffffff.elf", "1-byte read to unmapped address 0xffffffff at pc 0x4", "0x80"),
            ("lm32-store-0xfffffffc.elf", "4-byte write to unmapped address 0xfffffffc at pc 0x8", "0x80"),
            ("lm32-hang-eba-unmapped.elf", "4-byte instruction fetch from unmapped address 0x90000000 at pc 0x90000000", "0x80000040"),
        ]
        for (file, access, vector) in cases {
            let result = try run("eric", ["run", "--max-instructions", "1000", file])
            #expect(result.status == 2 && result.stderr == "eric: error: bus error: \(access) (the program's exception vector is at \(vector); no handler runs in this environment, as in lm32-elf-run)\n", "\(file): \(result.stderr)")
        }
        // An entry point where the file loads nothing ran whatever RAM held (zeros) forever.
        let entry = try run("eric", ["run", "--max-instructions", "1000", "lm32-hang-entry-unmapped.elf"])
        #expect(entry.status == 2 && entry.stderr == "lm32-hang-entry-unmapped.elf: error: at byte 24: the entry point 0x80000000 is in no loaded segment (0x0+0x6c, 0x70+0x18, 0x90+0x0) (RAM is 0x0-0x1000000; see --ram-size)\n", "\(entry.stderr)")
        let empty = try run("eric", ["run", "--max-instructions", "1000", "lm32-hang-ram4.elf"])
        #expect(empty.status == 2 && empty.stderr == "lm32-hang-ram4.elf: error: at byte 24: the entry point 0x0 is in no loaded segment (the file has none) (RAM is 0x0-0x1000000; see --ram-size)\n", "\(empty.stderr)")
        // A program that loops: the limit counts its steps.
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("loop.S")
        try "_start: bi _start\n".write(to: source, atomically: true, encoding: .utf8)
        #expect(try Run("lm32as", [source.path, "-o", "loop.elf"], in: directory).status == 0)
        let looping = try Run("eric", ["run", "--max-instructions", "1000", directory.appendingPathComponent("loop.elf").path])
        #expect(looping.status == 2 && looping.stderr == "eric: error: stopped after 1000 instructions (--max-instructions) at pc 0x0\n")
        let outside = try run("eric", ["run", "lm32-segment-outside-ram.elf"])
        #expect(outside.status == 2 && outside.stderr == "lm32-segment-outside-ram.elf: error: at byte 84: segment 1 [0x2000000, 0x2000018): no memory at 0x2000000 to load 24 bytes into (RAM is 0x0-0x1000000; see --ram-size)\n")
    }

    /// The SoC's firmware with exception vectors where nothing is takes exceptions only: the
    /// run says the CPU is locked up instead of spinning forever.
    @Test func firmwareLoadErrorsNameTheSegment() throws {
        let memsz = try run("eric", ["run", "--firmware", "firmware-memsz.elf", "../dumps/example.raw"])
        #expect(memsz.status == 2 && memsz.stderr == "firmware-memsz.elf: error: at byte 52: segment 0 [0x0, 0x1000000): no memory at 0x100000 to load 2352 bytes into (the SoC's ROM is 0x0-0x100000, its RAM 0x40000000+0x1000000; docs/soc.md)\n", "\(memsz.stderr)")
        let entry = try run("eric", ["run", "--firmware", "firmware-unmapped-segment.elf", "../dumps/example.raw"])
        #expect(entry.status == 2 && entry.stderr == "firmware-unmapped-segment.elf: error: at byte 24: the entry point 0x0 is in no loaded segment (0x40000000+0x930, 0x930+0x122) (the SoC's ROM is 0x0-0x100000, its RAM 0x40000000+0x1000000; docs/soc.md)\n", "\(entry.stderr)")
    }

    /// `.include "/dev/zero"` read forever; three large .skip lines took 1.6 GB before the error.
    @Test func assemblersBoundWhatTheyRead() throws {
        let mpuas = try run("mpuas", ["mpuas-include-devzero.s", "-o", "/dev/null"])
        #expect(mpuas.status == 1 && mpuas.stderr.hasPrefix("mpuas-include-devzero.s:1:10: error: cannot read included file '/dev/zero': larger than 16 MiB, the most this tool reads from one file\n"))
        let lm32as = try run("lm32as", ["lm32as-include-devzero.S", "-o", "/dev/null"])
        #expect(lm32as.status == 1 && lm32as.stderr.hasPrefix("lm32as-include-devzero.S:3:11: error: cannot read included file '/dev/zero': larger than 16 MiB, the most this tool reads from one file\n"))
        let skip = try run("lm32as", ["lm32as-mem-skip-error.S", "-o", "/dev/null"])
        #expect(skip.status == 1 && skip.stderr.hasPrefix("lm32as-mem-skip-error.S:3:2: error: section .text would take .text and .data past 64 MiB of stored bytes (reserve large areas in .bss)\n"))
        #expect(skip.stderr.hasSuffix("3 errors generated.\n"))
    }

    /// A LiME range starting at byte 2: the whole page 0x1000-0x2000 is scanned by both paths,
    /// the firmware rounding the range's start up to a page (it used to refuse to start).
    @Test func bothScanPathsTakeARangeStartingInsideAPage() throws {
        let direct = try run("eric", ["scan", "--json", "lime-unaligned-start.lime"])
        let soc = try run("eric", ["scan", "--soc", "--json", "lime-unaligned-start.lime"])
        #expect(direct.status == 0 && soc.status == 0, "\(direct.stderr)\(soc.stderr)")
        #expect(direct.stdout.contains("\"pages\":1,") && soc.stdout.contains("\"pages\":1,"), "\(direct.stdout)\n\(soc.stdout)")
        let console = try run("eric", ["run", "lime-unaligned-start.lime"])
        #expect(console.status == 0 && console.stdout.contains("done: pages 0x00000001 runs 0x00000006 alerts 0x00000000 faults 0x00000000"))
    }

    /// The disassembly of `jmpw $8` once invented a label, and reassembled with a symbol more.
    @Test func disassemblyReassemblesToTheSameBytes() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = directory.appendingPathComponent("a.mpu").path, b = directory.appendingPathComponent("b.mpu").path
        let source = directory.appendingPathComponent("b.s")
        #expect(try run("mpuas", ["mpuas-roundtrip-Llabel.s", "-o", a]).status == 0)
        let listing = try run("mpuas", ["-d", a])
        #expect(listing.stdout.contains("jmpw $0x8") || listing.stdout.contains("jmpw $8"), "\(listing.stdout)")
        try listing.stdout.write(to: source, atomically: true, encoding: .utf8)
        #expect(try run("mpuas", [source.path, "-o", b]).status == 0)
        #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b))
    }
}

/// Exit status 0 means every page was checked and found clean: inputs where nothing (or not
/// everything) was checked say so.
@Suite struct NothingCheckedTests {
    @Test func emptyAndTinyDumpsAreErrors() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for size in [0, 1, 3, 4095] {
            let path = directory.appendingPathComponent("d\(size).raw").path
            #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0, count: size)))
            for mode in [["scan"], ["scan", "--soc"], ["run"]] {
                let result = try Run("eric", mode + [path])
                let holds = size == 0 ? "nothing" : "0x0-0x\(String(size, radix: 16))"
                let outside = size == 0 ? "" : "; \(size) bytes outside whole pages"
                let expected = mode == ["run"] ? "\(path): error: nothing to scan: no whole 4 KiB page in the dump (it holds \(holds))\n"
                    : "\(path): error: nothing to scan: no whole 4 KiB page in the dump (it holds \(holds)\(outside))\n"
                #expect(result.status == 2 && result.stderr == expected, "\(mode) \(size): \(result.stderr)")
            }
        }
        let null = try Run("eric", ["scan", "/dev/null"])
        #expect(null.status == 2 && null.stderr == "/dev/null: error: cannot open dump: not a regular file\n")
        let folder = try Run("eric", ["run", directory.path])
        #expect(folder.status == 2 && folder.stderr == "\(directory.path): error: cannot open dump: not a regular file\n")
    }

    @Test func noAutomatonOrNoPageInTheRangeAreErrors() throws {
        let dump = packageRoot.appendingPathComponent("Fixtures/dumps/example.raw").path
        for names in ["", ","] {
            let result = try Run("eric", ["scan", "--automata", names, dump])
            #expect(result.status == 2 && result.stderr.hasPrefix("Error: --automata '\(names)' names no automaton"), "\(result.stderr)")
        }
        let outside = try Run("eric", ["scan", "--range", "0x10000000-0x20000000", dump])
        #expect(outside.status == 2 && outside.stderr == "\(dump): error: nothing to scan: no whole 4 KiB page in --range 0x10000000-0x20000000 (it holds 0x0-0x140000)\n")
    }

    /// An automaton that faults on every page checked nothing: an error. One that faults only
    /// where the page's first quadword is not zero checked part: exit 3. (The bundled example
    /// has zero pages and non-zero ones.)
    @Test func faultedRunsMakeAScanPartialOrVoid() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dump = packageRoot.appendingPathComponent("Fixtures/dumps/example.raw").path
        let always = directory.appendingPathComponent("always.s")
        try ".automaton \"always\"\nstart:\n    loadw r4, $0x1000\n    mloadq r2, r4\n    intq r0\n".write(to: always, atomically: true, encoding: .utf8)
        let some = directory.appendingPathComponent("some.s")
        try """
            .automaton "some"
            start:
                loadw r3, $fault
                mloadq r2, $0
                equq r2, r0, r3
                intq r0
            fault:
                loadw r4, $0x1000
                mloadq r2, r4
                intq r0

            """.write(to: some, atomically: true, encoding: .utf8)
        for mode in [[String](), ["--soc"]] {
            let void = try Run("eric", ["scan"] + mode + ["--automata", "none", "--automaton", always.path, dump])
            #expect(void.status == 2 && void.stderr.hasSuffix("\(dump): error: nothing was checked: every one of the 320 runs faulted (see the faults above)\n"), "\(mode) \(void.stderr)")
            let partial = try Run("eric", ["scan"] + mode + ["--automata", "none", "--automaton", some.path, dump])
            #expect(partial.status == 3 && partial.stderr.contains("runs faulted: those pages were not fully checked (exit status 3)"), "\(mode) \(partial.stderr)")
        }
    }

    /// Options whose value starts with '-' were "missing"; Foundation's error codes for files.
    @Test func messagesAPersonCanActOn() throws {
        let dump = packageRoot.appendingPathComponent("Fixtures/dumps/example.raw").path
        let jobs = try Run("eric", ["scan", "--jobs", "-1", dump])
        #expect(jobs.status == 2 && jobs.stderr.hasPrefix("Error: --jobs must be 0 (one per core) or more\n"), "\(jobs.stderr)")
        let missing = try Run("eric", ["synth", "--size", "1M", "-o", "/nonexistent-eric/x.raw"])
        #expect(missing.status == 2 && missing.stderr == "/nonexistent-eric/x.raw: error: cannot write: No such file or directory (the folder '/nonexistent-eric' does not exist)\n")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = try Run("eric", ["synth", "--size", "1M", "-o", directory.path])
        #expect(folder.status == 2 && folder.stderr == "\(directory.path): error: cannot write: Is a directory (give a file name, not a folder)\n")
        // A truth that cannot be written is found before the dump is written.
        let dumpPath = directory.appendingPathComponent("early.raw").path
        let truthFolder = try Run("eric", ["synth", "--size", "1M", "-o", dumpPath, "--truth", directory.path])
        #expect(truthFolder.status == 2 && truthFolder.stderr == "\(directory.path): error: cannot write: Is a directory (give a file name, not a folder)\n")
        #expect(!FileManager.default.fileExists(atPath: dumpPath))
        let huge = try Run("eric", ["synth", "--size", "99999G", "-o", directory.appendingPathComponent("x").path])
        #expect(huge.status == 2 && huge.stderr.hasPrefix("Error: --size '99999G' is above 1 TiB"))
        let serial = try Run("eric", ["run", "--serial", "file:/nonexistent-eric/c.txt", dump])
        #expect(serial.status == 2 && serial.stderr == "/nonexistent-eric/c.txt: error: --serial: cannot write: No such file or directory (the folder '/nonexistent-eric' does not exist)\n")
        let x86 = try Run("eric", ["run", "/bin/ls"])
        #expect(x86.status == 2 && x86.stderr == "/bin/ls: error: at byte 18: an ELF file for machine 62, neither an lm32-elf executable (e_machine 138) to run on the LM32 nor a core dump (e_type 4) to check\n")
        let mpuas = try Run("mpuas", [packageRoot.appendingPathComponent("automata/idt.s").path, "-o", directory.path])
        #expect(mpuas.status == 1 && mpuas.stderr == "\(directory.path): error: cannot write file: Is a directory (give a file name, not a folder)\n")
        // -o - writes the dump to standard output, as mpuas -o - does; the truth needs a file.
        let truth = directory.appendingPathComponent("t.json").path
        let stdout = try Run("eric", ["synth", "--size", "1M", "-o", "-", "--truth", truth])
        #expect(stdout.status == 0 && stdout.stdoutBytes.count == 0x140000 &&   // 1 MiB of memory and a 256 KiB hole, as in a file
                FileManager.default.fileExists(atPath: truth))
        #expect(!FileManager.default.fileExists(atPath: packageRoot.appendingPathComponent("-").path))
    }
}
