import ArgumentParser
import AsmKit
import CLISupport
import Foundation
import LM32Asm

@main
struct LM32As: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm32as",
        abstract: "Assemble LM32 firmware (GNU as syntax for lm32-elf) into an ELF executable or a flat image.",
        discussion: """
            Sections are placed at fixed addresses (no link step): .text at --text-address \
            (default 0), .data and .bss after it unless given. The entry point is _start, or the \
            start of .text. See docs/lm32.md, "Assembler".

            Examples:
              lm32as firmware/eric.S -o eric.elf
              lm32as --format binary --text-address 0x860000 firmware/eric.S -o eric.bin
              lm32as -l -D DEBUG=1 firmware/eric.S

            Exit status: 0 on success, 1 when the input has errors (each printed as file:line:col: error: message), 64 for a command-line mistake.
            """)

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case elf, binary }

    @Argument(help: "Assembly source.")
    var input: String

    @Option(name: [.short, .long], help: "Output file ('-' for standard output; default: INPUT's name with .elf or .bin).")
    var output: String?

    @Option(help: "Output format: elf (an EM_LATTICEMICO32 executable) or binary (the memory image from the lowest section, as objcopy -O binary).")
    var format: OutputFormat = .elf

    @Flag(name: [.short, .long], help: "Print a listing (address, encoding, source) on standard output.")
    var listing = false

    @Option(name: .customShort("D"), help: ArgumentHelp("Define a constant, as .equ does (VALUE defaults to 1).", valueName: "name[=value]"))
    var definitions: [String] = []

    @Option(name: .customShort("I"), help: ArgumentHelp("Search this directory for .include files.", valueName: "dir"))
    var includePaths: [String] = []

    @Option(help: ArgumentHelp("Address of .text.", valueName: "address"))
    var textAddress: String = "0"

    @Option(help: ArgumentHelp("Address of .data (default: after .text, 16-byte aligned).", valueName: "address"))
    var dataAddress: String?

    @Option(help: ArgumentHelp("Address of .bss (default: after .data, 16-byte aligned).", valueName: "address"))
    var bssAddress: String?

    func address(_ text: String, _ option: String) throws -> UInt32 {
        guard let value = parseNumber(text), value <= UInt64(UInt32.max) else { throw ValidationError("\(option) '\(text)' is not a 32-bit address") }
        return UInt32(value)
    }

    func run() throws {
        var parsed: [Definition] = []
        for text in definitions {
            do { parsed.append(try Definition(parsing: text)) } catch { Console.fail("error: \(error)", code: 64) }
        }
        let layout = LM32Layout(textAddress: try address(textAddress, "--text-address"),
                                dataAddress: try dataAddress.map { try address($0, "--data-address") },
                                bssAddress: try bssAddress.map { try address($0, "--bss-address") })
        let result = LM32Assembler.assemble(path: input, options: AssemblerOptions(includePaths: includePaths, definitions: parsed), layout: layout)
        for diagnostic in result.diagnostics { Console.error(diagnostic.rendered()) }
        if listing { Console.write(LM32Listing.text(result.listing)) }
        guard let program = result.program else {
            Console.fail("\(result.errorCount) error\(result.errorCount == 1 ? "" : "s") generated.", code: 1)
        }
        if output != nil || !listing {
            let destination = output ?? defaultOutputName()
            do {
                try Console.write(format == .elf ? program.elf() : program.flatImage().bytes, to: destination)
            } catch {
                Console.fail("\(destination): error: cannot write file: \(error.reason)", code: 1)
            }
        }
    }

    func defaultOutputName() -> String {
        let base = (input as NSString).lastPathComponent
        let stem = [".s", ".S", ".asm"].first { base.hasSuffix($0) }.map { String(base.dropLast($0.count)) } ?? base
        return stem + (format == .elf ? ".elf" : ".bin")
    }
}
