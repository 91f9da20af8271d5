import AsmKit
import CLISupport
import Dumps
import Foundation
import MPUAsm
import MPUISA
import MPUSim
import ShippedAutomata

/// The automata built into `eric`: the images mpuas made of them when the package was built
/// (scripts/embed-automata.py; a test checks they are what the sources assemble to), or, with
/// `definitions` (as `-D` gives them), the sources assembled again.
func shippedAutomata(definitions: [Definition] = []) -> [Automaton] {
    guard definitions.isEmpty else { return assembledShippedAutomata(definitions: definitions) }
    return ShippedAutomata.images.map { file, base64 in
        let name = String(file.dropLast(2))
        guard let data = Data(base64Encoded: base64), let image = try? MPUImage(parsing: [UInt8](data)) else {
            Console.fail("eric: error: the shipped automaton '\(name)' has a damaged image: run scripts/embed-automata.py", code: 2)
        }
        return Automaton(image: image, name: name)
    }
}

/// The shipped automata assembled from their sources with `definitions`.
func assembledShippedAutomata(definitions: [Definition]) -> [Automaton] {
    ShippedAutomata.sources.map { file, source in
        let name = String(file.dropLast(2))
        let result = MPUAssembler.assemble(source: source, name: "<shipped>/" + file, options: AssemblerOptions(definitions: definitions))
        for diagnostic in result.diagnostics { Console.error(diagnostic.rendered()) }
        guard let image = result.image else {
            Console.fail("eric: error: the shipped automaton '\(name)' does not assemble" + (definitions.isEmpty ? "" : " with these -D definitions"), code: 2)
        }
        return Automaton(image: image, name: name)
    }
}

/// `chosen` and the follow-up automata they name (x86-walk for pml4), taken from `shipped`.
func withTheirFollowUps(_ chosen: [Automaton], from shipped: [Automaton]) -> [Automaton] {
    var all = chosen
    var index = 0
    while index < all.count {
        for follow in all[index].metadata.follows where !all.contains(where: { $0.name == follow.automaton }) {
            if let automaton = shipped.first(where: { $0.name == follow.automaton }) { all.append(automaton) }
        }
        index += 1
    }
    return all
}

/// The shipped automata that run on every page (the SoC's run list, the records' automaton ids):
/// all but the follow-up ones.
func sweepAutomata() -> [Automaton] { shippedAutomata().filter { !$0.metadata.followUpOnly } }

func parseDefinitions(_ texts: [String]) -> [Definition] {
    texts.map { text in
        do { return try Definition(parsing: text) } catch { Console.fail("eric: error: \(error)", code: 2) }
    }
}

/// A file, or the name of a shipped automaton when no such file exists.
func loadAutomatonOrShipped(_ argument: String, definitions: [Definition]) -> Automaton {
    if !SourceProvider.fileSystem.exists(argument) {
        let shipped = shippedAutomata(definitions: definitions)
        if let automaton = shipped.first(where: { $0.name == argument }) { return automaton }
        Console.fail("\(argument): error: no such file, nor a shipped automaton of that name (shipped: \(shipped.map(\.name).joined(separator: ", ")))", code: 2)
    }
    return loadAutomaton(argument, definitions: definitions)
}

/// Loads an automaton from an image (`.mpu`, recognised by its magic) or assembles it from
/// source; on failure prints the diagnostics and exits with status 2.
func loadAutomaton(_ path: String, definitions: [Definition] = []) -> Automaton {
    let bytes: [UInt8]
    switch readFile(path) {
    case .success(let b): bytes = b
    case .failure(let reason): Console.fail("\(path): error: cannot read file: \(reason)", code: 2)
    }
    if bytes.starts(with: MPUImage.magic) {
        do {
            return Automaton(image: try MPUImage(parsing: bytes))
        } catch {
            Console.fail("\(path): error: \(error)", code: 2)
        }
    }
    let result = MPUAssembler.assemble(path: path, options: AssemblerOptions(definitions: definitions))
    for diagnostic in result.diagnostics { Console.error(diagnostic.rendered()) }
    guard let image = result.image else { Console.fail("\(path): \(result.errorCount) error(s); automaton not loaded", code: 2) }
    let stem = String(path.split(separator: "/").last ?? Substring(path)).replacingOccurrences(of: ".s", with: "")
    return Automaton(image: image, name: image.metadata.name ?? stem)
}

/// Opens a dump in any supported format; prints what could not be used as warnings, and
/// exits with status 2 if nothing can.
func openDump(_ path: String) -> MappedDump {
    let dump: MappedDump
    do {
        dump = try MappedDump(path: path)
    } catch {
        Console.fail(error.description, code: 2)
    }
    for problem in dump.problems {
        Console.error("\(path): warning: \(problem) (\(problem.skippedBytes) bytes not scanned)")
    }
    return dump
}

/// "LiME, 3 ranges, 1.00 GiB of memory".
func describe(_ dump: MappedDump) -> String {
    let bytes = dump.memoryBytes
    let ranges = dump.ranges.count == 1 ? "1 range" : "\(dump.ranges.count) ranges"
    return "\(dump.format.rawValue), \(ranges), \(formatBytes(bytes)) of memory"
}

/// "0x0-0x140000, 0x200000-0x400000", or "nothing".
func extent(of memory: MappedDump) -> String {
    memory.ranges.isEmpty ? "nothing" : memory.ranges.map { "\(hex($0.physicalStart))-\(hex($0.physicalEnd))" }.joined(separator: ", ")
}

func hex(_ value: UInt64, _ digits: Int = 1) -> String { "0x" + hexDigits(value, digits) }
