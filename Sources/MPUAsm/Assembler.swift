@_exported import AsmKit
import MPUISA

/// One line of the listing: where it came from, and the instruction it produced.
public struct ListingLine: Hashable, Sendable {
    public var file: String
    public var line: Int
    public var text: String
    public var address: Int?
    public var bytes: [UInt8]
    /// 0 for the main file, 1 for a file it includes, ...
    public var includeDepth: Int
}

public struct AssemblyResult: Sendable {
    /// The image, or nil when there were errors.
    public var image: MPUImage?
    public var diagnostics: [Diagnostic]
    public var listing: [ListingLine]
    /// Every source file read, main file first.
    public var files: [String]

    public var errorCount: Int { diagnostics.count { $0.severity == .error } }
}

public enum MPUAssembler {
    public static let directives = [".equ", ".set", ".include", ".automaton", ".description", ".alert", ".follow", ".operand", ".followup",
                                    ".entry", ".if", ".ifdef", ".ifndef", ".else", ".endif", ".error"]

    /// Assembles the file at `path` (read through `options.provider`).
    public static func assemble(path: String, options: AssemblerOptions = AssemblerOptions()) -> AssemblyResult {
        var assembly = Assembly(options: options)
        assembly.run(mainFile: path)
        return assembly.result()
    }

    /// Assembles source text; `.include` paths resolve through `options.provider`.
    public static func assemble(source: String, name: String = "<input>", options: AssemblerOptions = AssemblerOptions()) -> AssemblyResult {
        var options = options
        options.provider = options.provider.adding(name, source: source)
        return assemble(path: name, options: options)
    }
}

/// Register syntax: `r0`..`r15`, optionally `_index` for a sub-register.
struct RegisterName {
    var number: Int
    var slot: Int?

    /// Parses `r12` / `R6_1`; nil when the word is not register-shaped at all.
    init?(_ word: String) {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count >= 2, scalars[0] == "r" || scalars[0] == "R" else { return nil }
        var i = 1
        func digits() -> Int? {
            let start = i
            var value = 0
            while i < scalars.count, let d = scalars[i].properties.numericType != nil && scalars[i].isASCII ? Int(scalars[i].value - 48) : nil {
                value = min(value * 10 + d, 1_000_000)
                i += 1
            }
            return i > start ? value : nil
        }
        guard let number = digits() else { return nil }
        self.number = number
        if i == scalars.count { slot = nil; return }
        guard scalars[i] == "_" else { return nil }
        i += 1
        guard let slot = digits(), i == scalars.count else { return nil }
        self.slot = slot
    }
}
