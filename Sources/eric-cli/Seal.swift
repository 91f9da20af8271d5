import ArgumentParser
import AsmKit
import CLISupport
import EricSoC
import Foundation
import MPUSim
import Sealing

/// Reads a device key file; a bad one is one located line and exit 2.
func loadDeviceKey(_ path: String) -> DeviceKey {
    let bytes: [UInt8]
    switch readFile(path, limit: 64 * 1024) {
    case .success(let read): bytes = read
    case .failure(let reason): Console.fail("\(path): error: cannot read the key file: \(reason)", code: 2)
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        Console.fail("\(path): error: not a key file (not text); make one with eric keygen", code: 2)
    }
    do {
        return try DeviceKey(file: text)
    } catch {
        Console.fail("\(path):\(error.line):\(error.column): error: \(error.message)", code: 2)
    }
}

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make a board's device key (docs/security.md).",
        discussion: """
            Writes 256 random bits in the key file format (readable by its owner only). The same key \
            is provisioned into the board's checker and kept by whoever seals its automata \
            (eric seal) and checks its alerts; it is never printed.

            Example: eric keygen -o board.key
            """)

    @Option(name: [.short, .long], help: ArgumentHelp("The key file to write.", valueName: "file"))
    var output: String

    @Flag(help: "Replace an existing file (the key in it is lost).")
    var force = false

    func run() throws {
        if !force && FileManager.default.fileExists(atPath: output) {
            Console.fail("\(output): error: already exists; a new key would replace the one in it (--force to do so)", code: 2)
        }
        let key = DeviceKey.generate()
        do {
            try writeFile(Array(key.fileText.utf8), to: output, mode: 0o600)
        } catch {
            Console.fail("\(error.path): error: cannot write: \(error.reason)", code: 2)
        }
        Console.error("wrote \(key) to \(output)")
    }
}

struct Seal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Seal automata for a board: encrypted, authenticated and versioned (docs/security.md).",
        discussion: """
            Writes the automata table the board's checker installs (the sweep's automata, then those \
            that run only as follow-ups, with their alert names and follow rules) as a bundle, \
            AES-256-GCM under a key derived from the device key. The board refuses a bundle whose \
            version is not above the loaded one's. AUTOMATON: a source or .mpu file, or a shipped \
            automaton's name; none: every shipped automaton.

            Example: eric seal --key board.key --version 7 -o set7.bundle
            """)

    @Option(help: ArgumentHelp("The board's device key file (eric keygen).", valueName: "file"))
    var key: String

    @Option(parsing: .unconditional, help: ArgumentHelp("The set's version: 1 or more, above every set the board has loaded.", valueName: "n"))
    var version: String

    @Option(name: .customShort("D"), help: ArgumentHelp("Define a constant for the automata's sources (e.g. -D EXTRA_REVISION=0x4).", valueName: "name[=value]"))
    var definitions: [String] = []

    @Option(name: [.short, .long], help: ArgumentHelp("The bundle to write.", valueName: "file"))
    var output: String

    @Argument(help: ArgumentHelp("Automata: files or shipped names (default: every shipped automaton).", valueName: "automaton"))
    var automata: [String] = []

    func validate() throws {
        guard let value = parseNumber(version), value >= 1, value <= UInt64(UInt32.max) else {
            throw ValidationError("--version '\(version)' is not a whole number from 1 to \(UInt32.max)")
        }
    }

    func run() throws {
        let deviceKey = loadDeviceKey(key)
        let defined = parseDefinitions(definitions)
        let shipped = shippedAutomata(definitions: defined)
        let chosen = automata.isEmpty ? shipped : automata.map { loadAutomatonOrShipped($0, definitions: defined) }
        // The follow-up automata the chosen ones name come along, as in eric scan.
        let ordered = SoC.slotOrder(withTheirFollowUps(chosen, from: shipped))
        do {
            try checkWritable(output)
            let table = try SoC.table(ordered.map(\.image), names: ordered.map(\.name))
            let bundle = try SealedBundle.seal(table: table.bytes, version: UInt32(parseNumber(version)!), key: deviceKey)
            try writeFile(bundle.bytes, to: output)
            let code = ordered.reduce(0) { $0 + $1.image.code.count }
            Console.error("sealed \(ordered.count) automata (\(ordered.map(\.name).joined(separator: ", ")); \(code) bytes of code) as version \(bundle.version) for \(deviceKey): \(output)")
        } catch let error as FileFailure {
            Console.fail("\(error.path): error: cannot write: \(error.reason)", code: 2)
        } catch {
            Console.fail("eric seal: error: \(error)", code: 2)
        }
    }
}
