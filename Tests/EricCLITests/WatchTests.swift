import Foundation
import Testing
import TestSupport

/// `eric watch`: sweeps of memory that changes while it is read.
@Suite(.serialized) struct WatchTests {
    static let lab = ProcessInfo.processInfo.environment["ERIC_LAB"]

    /// A real QEMU guest with its RAM in a file, running a busy workload while eric sweeps it
    /// (the lab's kernel and initramfs, scripts/lab/make.sh linux).
    @Test(.timeLimit(.minutes(3))) func sweepsALiveGuest() throws {
        guard let lab = Self.lab,
              let kernel = try? FileManager.default.contentsOfDirectory(atPath: lab + "/linux/out/cache").compactMap({ folder -> String? in
                  let boot = lab + "/linux/out/cache/" + folder + "/boot"
                  return (try? FileManager.default.contentsOfDirectory(atPath: boot))?.first { $0.hasPrefix("vmlinuz-") }.map { boot + "/" + $0 }
              }).first else { return }
        let initrd = lab + "/linux/out/build/initramfs.cpio.gz"
        let directory = try temporaryDirectory()
        let memory = "/dev/shm/eric-watch-\(getpid())"
        defer { try? FileManager.default.removeItem(at: directory); unlink(memory) }
        let console = directory.appendingPathComponent("console").path
        let qemu = Process()
        qemu.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64")
        qemu.arguments = ["-accel", "tcg", "-machine", "pc,memory-backend=ram", "-cpu", "qemu64", "-m", "128M",
                          "-object", "memory-backend-file,id=ram,mem-path=\(memory),size=128M,share=on",
                          "-nographic", "-vga", "none", "-net", "none", "-no-reboot", "-monitor", "none", "-serial", "file:" + console,
                          "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 panic=-1 eric.busy"]
        qemu.standardInput = FileHandle.nullDevice
        qemu.standardOutput = FileHandle.nullDevice
        qemu.standardError = FileHandle.nullDevice
        try qemu.run()
        // SIGKILL: the test process's threads block SIGTERM, and a child inherits the mask.
        defer { kill(qemu.processIdentifier, SIGKILL); qemu.waitUntilExit() }
        var booted = false
        for _ in 0..<480 where !booted {
            Thread.sleep(forTimeInterval: 0.25)
            booted = (try? String(contentsOfFile: console, encoding: .isoLatin1))?.contains("REALDUMP-BOOTED") ?? false
        }
        #expect(booted, "the guest did not boot")
        let state = directory.appendingPathComponent("vm.state").path
        #expect(try Run("eric", ["baseline", memory, "-o", state]).status == 0)
        let run = try Run("eric", ["watch", "--every", "500ms", "--count", "3", "--baseline", state, memory])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("sweep 1 at 0.0 s: the verdicts") == true && lines.contains("no-hypervisor   hypervisor"), "\(run.stdout)")
        #expect(lines.filter { $0.hasPrefix("sweep ") }.count == 3 && lines.last?.hasSuffix(": as before") == true, "\(run.stdout)")
        #expect(qemu.isRunning, "the guest ran all along")
    }

    /// The file rewritten in place between two sweeps with a later moment of the lab's series
    /// (kvm_intel's code hooked): the second sweep's verdicts change to modified, exit 1.
    @Test(.timeLimit(.minutes(1))) func printsTheVerdictsWhenTheyChange() throws {
        guard let lab = Self.lab, FileManager.default.fileExists(atPath: lab + "/kvm-series/out/snap-vm2.raw") else { return }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let memory = directory.appendingPathComponent("host.mem").path
        try FileManager.default.copyItem(atPath: lab + "/kvm-series/out/snap-vm2.raw", toPath: memory)
        let state = directory.appendingPathComponent("host.state").path
        #expect(try Run("eric", ["baseline", memory, "-o", state]).status == 0)
        let later = try Data(contentsOf: URL(fileURLWithPath: lab + "/kvm-series/out/snap-patched.raw"))
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.2) {
            // In place, as a guest's memory changes: the file keeps its size.
            if let handle = FileHandle(forWritingAtPath: memory) { handle.write(later); try? handle.close() }
        }
        let run = try Run("eric", ["watch", "--every", "2500ms", "--count", "2", "--json", "--baseline", state, memory])
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        let sweeps = lines.filter { $0.contains("\"type\":\"sweep\"") }
        #expect(sweeps.count == 2 && sweeps.allSatisfy { $0.contains("\"changed\":true") }, "\(run.stdout)")
        let summaries = lines.filter { $0.contains("\"type\":\"summary\"") }
        #expect(summaries.count == 2 && summaries[0].contains("\"verdict\":\"unchanged\"") && summaries[1].contains("\"verdict\":\"modified\""), "\(run.stdout)")
    }
}
