import Glibc
import ArgumentParser
import CLISupport
import Foundation
import Synth

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a synthetic memory dump with planted structures, and its ground truth.",
        discussion: """
            Plants EPT hierarchies (all levels, identity and scattered mappings), VMCS in the KVM vmcs12 and Haswell layouts (EPTP and HOST_CR3 pointing at planted tables), VMXON regions, Linux and Windows IDTs and PML4s, and near misses, among filler (zero, random, text, code-like and heap-like pages), one set per 16 MiB. The same seed and size give the same bytes in every format. The ground truth (every planted page, its kind and the alerts the shipped automata must raise) goes to FILE.truth.json.

            Example: eric synth --seed 7 --size 1G --format lime -o guest.lime
            """)

    @Option(parsing: .unconditional, help: "Seed of the generator.")
    var seed: UInt64 = 2014

    @Option(parsing: .unconditional, help: ArgumentHelp("Memory size: a multiple of 1 MiB (K/M/G suffixes).", valueName: "bytes"))
    var size: String = "64M"

    @Option(help: "raw, lime or elf.")
    var format: String = "raw"

    @Option(name: [.short, .long], help: ArgumentHelp("The dump to write.", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("Where to write the ground truth (default: FILE.truth.json).", valueName: "file"))
    var truth: String?

    func validate() throws {
        guard let bytes = parseNumber(size, allowSuffix: true), bytes > 0, bytes % (1 << 20) == 0 else {
            throw ValidationError("--size '\(size)' is not a positive multiple of 1 MiB")
        }
        guard bytes <= Self.largest else { throw ValidationError("--size '\(size)' is above 1 TiB, the largest dump eric synth makes") }
        guard SynthDump.Format(rawValue: format) != nil else { throw ValidationError("--format must be raw, lime or elf, not '\(format)'") }
    }

    /// 1 TiB: the ground truth grows with the size (a set of structures per 16 MiB).
    static let largest: UInt64 = 1 << 40

    func run() throws {
        let dump = SynthDump(seed: seed, size: parseNumber(size, allowSuffix: true)!)
        let format = SynthDump.Format(rawValue: format)!
        let truthPath = truth ?? (output == "-" ? nil : output + ".truth.json")
        guard let truthPath else { Console.fail("eric: error: with -o - (standard output), give --truth FILE for the ground truth", code: 2) }
        // Both destinations are checked first: a truth that cannot be written must not cost the
        // dump's writing (nor leave a dump without its truth).
        do {
            try checkWritable(output)
            try checkWritable(truthPath)
        } catch {
            Console.fail("\(error.path): error: cannot write: \(error.reason)", code: 2)
        }
        // Check the room before writing: a dump that cannot fit would fill the disk and fail late.
        if output != "-" {
            let folder = output.contains("/") ? String(output[..<output.lastIndex(of: "/")!]) : "."
            var info = statvfs()
            if statvfs(folder.isEmpty ? "/" : folder, &info) == 0 {
                let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
                if dump.size > free {
                    Console.fail("\(output): error: a \(formatBytes(dump.size)) dump does not fit: \(formatBytes(free)) free on the disk of '\(folder)'", code: 2)
                }
            }
        }
        do {
            let file = try OutputFile(output)
            try dump.write(format: format) { (bytes: [UInt8]) throws(FileFailure) in try file.write(bytes) }
            try writeFile(Array(try dump.truthJSON(format: format)), to: truthPath)
        } catch let failure as FileFailure {
            Console.fail("\(failure.path): error: cannot write: \(failure.reason)", code: 2)
        } catch {
            Console.fail("\(truthPath): error: cannot write: \(error)", code: 2)
        }
        Console.error("wrote \(output == "-" ? "standard output" : output) (\(format.rawValue), \(dump.size >> 20) MiB of memory, \(dump.planted.count) planted pages) and \(truthPath)")
    }
}
