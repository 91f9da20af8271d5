import CLISupport
import ArgumentParser
import AsmKit
import Foundation
import MPUAsm
import MPUISA

@main
struct MPUAs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpuas",
        abstract: "Assemble and disassemble ERIC MPU automata.",
        discussion: """
            Assembles INPUT (MPU assembly, see docs/isa.md) into an image the MPU runs. With no -o, -l or --map, it writes INPUT's name with the output format's extension (.mpu, .hex, .mem) in the current directory; `-o -` writes to standard output.

            Examples:
              mpuas automata/ept-identity.s -o ept.mpu
              mpuas -l automata/ept-identity.s
              mpuas -D REVISION=0x15 my-automaton.s --format readmemh -o my.mem
              mpuas -d ept.mpu > ept-again.s

            Exit status: 0 on success, 1 when the input has errors (each printed as file:line:col: error: message), 64 for a command-line mistake.
            """)

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case image, hex, readmemh
        var fileExtension: String { self == .image ? "mpu" : self == .hex ? "hex" : "mem" }
    }

    @Argument(help: "Assembly source, or with -d an image.")
    var input: String

    @Option(name: [.short, .long], help: "Output file ('-' for standard output).")
    var output: String?

    @Option(help: "Output format: image (.mpu), hex (Intel HEX) or readmemh (Verilog $readmemh).")
    var format: OutputFormat = .image

    @Flag(name: [.short, .long], help: "Print a listing (address, encoding, source) on standard output.")
    var listing = false

    @Option(help: "Write a symbol map to this file ('-' for standard output).")
    var map: String?

    @Option(name: .customShort("D"), help: ArgumentHelp("Define a constant, as .equ does (VALUE defaults to 1).", valueName: "name[=value]"))
    var definitions: [String] = []

    @Option(name: .customShort("I"), help: ArgumentHelp("Search this directory for .include files.", valueName: "dir"))
    var includePaths: [String] = []

    @Flag(name: [.short, .long], help: "Disassemble the image INPUT to assembly source.")
    var disassemble = false

    func validate() throws {
        if disassemble && (listing || map != nil || !definitions.isEmpty || format != .image) {
            throw ValidationError("-d takes only an image and -o")
        }
    }

    func run() throws {
        if disassemble { try runDisassembler() } else { try runAssembler() }
    }

    func runAssembler() throws {
        var parsedDefinitions: [Definition] = []
        for text in definitions {
            do { parsedDefinitions.append(try Definition(parsing: text)) } catch { fail("error: \(error)", code: 64) }
        }
        let result = MPUAssembler.assemble(path: input, options: AssemblerOptions(includePaths: includePaths, definitions: parsedDefinitions))
        for diagnostic in result.diagnostics { printError(diagnostic.rendered()) }
        if listing { print(AssemblyReport.listing(result.listing, title: input), terminator: "") }
        guard let image = result.image else {
            let count = result.errorCount
            fail("\(count) error\(count == 1 ? "" : "s") generated.", code: 1)
        }
        if let map { write(Array(AssemblyReport.symbolMap(image, title: input).utf8), to: map) }
        if output != nil || (!listing && map == nil) {
            let destination = output ?? defaultOutputName()
            let bytes: [UInt8]
            switch format {
            case .image: bytes = image.serialized()
            case .hex: bytes = Array(ImageExport.intelHex(image.code).utf8)
            case .readmemh: bytes = Array(ImageExport.readmemh(image.code, title: input).utf8)
            }
            write(bytes, to: destination)
        }
    }

    func runDisassembler() throws {
        let bytes: [UInt8]
        switch readFile(input) {
        case .success(let b): bytes = b
        case .failure(let reason): fail("\(input): error: cannot read file: \(reason)", code: 1)
        }
        do {
            let image = try MPUImage(parsing: bytes)
            let source = try Disassembler.source(of: image, origin: input)
            write(Array(source.utf8), to: output ?? "-")
        } catch let error as ImageError {
            fail("\(input): error: \(error)", code: 1)
        } catch {
            fail("\(input): error: \(error)", code: 1)
        }
    }

    func defaultOutputName() -> String {
        let base = (input as NSString).lastPathComponent
        let stem = base.hasSuffix(".s") ? String(base.dropLast(2)) : base
        return stem + "." + format.fileExtension
    }

    func write(_ bytes: [UInt8], to path: String) {
        do {
            try writeFile(bytes, to: path)
        } catch {
            fail("\(path): error: cannot write file: \(error.reason)", code: 1)
        }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

func fail(_ message: String, code: Int32) -> Never {
    printError(message)
    exit(code)
}
