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

    @Option(help: "Seed of the generator.")
    var seed: UInt64 = 2014

    @Option(help: ArgumentHelp("Memory size: a multiple of 1 MiB (K/M/G suffixes).", valueName: "bytes"))
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
        guard SynthDump.Format(rawValue: format) != nil else { throw ValidationError("--format must be raw, lime or elf, not '\(format)'") }
    }

    func run() throws {
        let dump = SynthDump(seed: seed, size: parseNumber(size, allowSuffix: true)!)
        let format = SynthDump.Format(rawValue: format)!
        do {
            try dump.write(to: output, format: format)
            try dump.truthJSON(format: format).write(to: URL(fileURLWithPath: truth ?? output + ".truth.json"))
        } catch {
            Console.fail("\(output): error: cannot write: \(error.localizedDescription)", code: 2)
        }
        Console.error("wrote \(output) (\(format.rawValue), \(dump.size >> 20) MiB of memory, \(dump.planted.count) planted pages) and \(truth ?? output + ".truth.json")")
    }
}
