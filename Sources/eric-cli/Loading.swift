import AsmKit
import CLISupport
import MPUAsm
import MPUISA
import MPUSim

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

func openDump(_ path: String) -> any PhysicalMemory {
    do {
        return try RawDump(path: path)
    } catch {
        Console.fail("\(path): error: cannot open dump: \(error.reason)", code: 2)
    }
}

func hex(_ value: UInt64, _ digits: Int = 1) -> String { "0x" + hexDigits(value, digits) }
