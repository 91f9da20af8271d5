@_exported import AsmKit
import ELF32
import LM32ISA

/// Where the sections go: LM32 firmware is linked at fixed addresses, so the assembler
/// places the sections itself (no linker step) and resolves every symbol.
public struct LM32Layout: Sendable {
    public var textAddress: UInt32 = 0
    /// Default: right after .text, aligned to 16.
    public var dataAddress: UInt32?
    /// Default: right after .data, aligned to 16.
    public var bssAddress: UInt32?

    public init(textAddress: UInt32 = 0, dataAddress: UInt32? = nil, bssAddress: UInt32? = nil) {
        self.textAddress = textAddress
        self.dataAddress = dataAddress
        self.bssAddress = bssAddress
    }
}

/// One line of the listing.
public struct LM32ListingLine: Hashable, Sendable {
    public var file: String
    public var line: Int
    public var text: String
    public var address: UInt32?
    public var bytes: [UInt8]
}

public struct LM32Program: Sendable {
    public enum SectionName: String, CaseIterable, Sendable { case text = ".text", data = ".data", bss = ".bss" }
    public struct Section: Sendable {
        public var name: SectionName
        public var address: UInt32
        public var bytes: [UInt8]
        public var size: UInt32
        public var alignment: UInt32
    }
    public var sections: [Section]
    /// Labels (with their section) and source constants (absolute: no section), and whether
    /// `.global` exported them.
    public var symbols: [(name: String, address: UInt32, section: SectionName?, isGlobal: Bool)]
    /// `_start` if defined, else the start of .text.
    public var entry: UInt32

    /// The executable (EM_LATTICEMICO32), readable by GNU readelf/objdump/gdb.
    public func elf() -> [UInt8] {
        let present = sections.filter { $0.size > 0 || $0.name == .text }
        let image = ELF32Image(
            entry: entry,
            sections: present.map {
                ELF32Image.Section(name: $0.name.rawValue, kind: $0.name == .text ? .code : $0.name == .data ? .data : .zeroed,
                                   address: $0.address, bytes: $0.bytes, size: $0.size, alignment: $0.alignment)
            },
            symbols: symbols.map { symbol in
                ELF32Image.Symbol(name: symbol.name, value: symbol.address, section: symbol.section.flatMap { name in present.firstIndex { $0.name == name } }, isGlobal: symbol.isGlobal)
            })
        return image.bytes()
    }

    /// The memory image from the lowest section to the end of .data, as `objcopy -O binary`
    /// writes it (.bss is not stored; gaps are zeros).
    public func flatImage() -> (address: UInt32, bytes: [UInt8]) {
        let stored = sections.filter { $0.name != .bss && $0.size > 0 }
        guard let low = stored.map(\.address).min() else { return (textAddress, []) }
        let high = stored.map { UInt64($0.address) + UInt64($0.size) }.max()!
        var bytes = [UInt8](repeating: 0, count: Int(high - UInt64(low)))
        for section in stored { bytes.replaceSubrange(Int(section.address - low)..<Int(section.address - low) + section.bytes.count, with: section.bytes) }
        return (low, bytes)
    }

    var textAddress: UInt32 { sections.first { $0.name == .text }?.address ?? 0 }
}

public struct LM32AssemblyResult: Sendable {
    /// The program, or nil when there were errors.
    public var program: LM32Program?
    public var diagnostics: [Diagnostic]
    public var listing: [LM32ListingLine]
    public var errorCount: Int { diagnostics.count { $0.severity == .error } }
}

/// The LM32 assembler: GNU as syntax for lm32-elf (docs/lm32.md, "Assembler").
public enum LM32Assembler {
    public static func assemble(path: String, options: AssemblerOptions = AssemblerOptions(), layout: LM32Layout = LM32Layout()) -> LM32AssemblyResult {
        var assembly = LM32Assembly(options: options, layout: layout)
        assembly.run(mainFile: path)
        return assembly.result()
    }

    public static func assemble(source: String, name: String = "<input>", options: AssemblerOptions = AssemblerOptions(),
                                layout: LM32Layout = LM32Layout()) -> LM32AssemblyResult {
        var options = options
        options.provider = options.provider.adding(name, source: source)
        return assemble(path: name, options: options, layout: layout)
    }

    /// Every instruction name a source may use (for "did you mean" hints).
    static let mnemonics = LM32.specs.filter { $0.format != .reserved && $0.format != .raise }.map(\.mnemonic) + aliases
    /// Mnemonics: the table's plus the aliases and the two `raise` forms.
    public static let aliases = ["nop", "mv", "mvi", "mvu", "mvhi", "not", "ret", "eret", "bret", "scall", "break"]
    public static let directives = [".text", ".data", ".bss", ".section", ".word", ".long", ".int", ".half", ".short", ".hword",
                                    ".byte", ".ascii", ".asciz", ".string", ".align", ".balign", ".p2align", ".space", ".skip",
                                    ".zero", ".global", ".globl", ".equ", ".set", ".include", ".if", ".ifdef", ".ifndef",
                                    ".else", ".endif", ".error", ".type", ".size", ".file", ".ident"]
}

/// Register names: r0-r31 and the ABI names of r26-r31.
func lm32Register(_ name: String) -> UInt8? {
    let lower = name.lowercased()
    if let index = LM32.registerNames.firstIndex(of: lower) { return UInt8(index) }
    if lower.hasPrefix("r"), let number = Int(lower.dropFirst()), number >= 0, number < 32, lower.count <= 3,
       !(lower.count == 3 && lower.dropFirst().hasPrefix("0")) {
        return UInt8(number)
    }
    return nil
}

func lm32CSR(_ name: String) -> UInt8? {
    LM32.csrNames.first { $0.value == name.uppercased() }?.key
}
