import AsmKit
import Foundation
import MPUAsm
import MPUISA
import TestSupport
import Testing


func fixtures(_ kind: String) -> [String] {
    let directory = packageRoot.appendingPathComponent("Fixtures/mpuas/\(kind)")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(".s") }.sorted()
}

/// Expectations written in a fixture line's comment.
enum Expectation: Equatable {
    /// `// = e6 20 00 ...`: the bytes this line assembles to.
    case bytes([UInt8])
    /// `// error: msg`, `// error@COL: msg`, likewise `warning`.
    case diagnostic(Severity, column: Int?, message: String)

    static func parse(_ line: String) -> Expectation? {
        guard let range = line.range(of: "// ", options: .backwards) else { return nil }
        let comment = line[range.upperBound...]
        if comment.hasPrefix("= ") {
            return .bytes(comment.dropFirst(2).split(separator: " ").map { UInt8($0, radix: 16)! })
        }
        for severity in [Severity.error, .warning] where comment.hasPrefix(severity.rawValue) {
            let rest = comment.dropFirst(severity.rawValue.count)
            guard let colon = rest.firstIndex(of: ":") else { return nil }
            let column = rest.hasPrefix("@") ? Int(rest[rest.index(after: rest.startIndex)..<colon]) : nil
            guard rest.hasPrefix("@") ? column != nil : rest.first == ":" else { return nil }
            return .diagnostic(severity, column: column, message: String(rest[rest.index(after: colon)...].drop { $0 == " " }))
        }
        return nil
    }
}

/// `// defines: NAME=VALUE, NAME` in a fixture's first lines.
func definitions(in source: String) throws -> [Definition] {
    guard let line = source.split(separator: "\n").prefix(5).first(where: { $0.hasPrefix("// defines: ") }) else { return [] }
    return try line.dropFirst("// defines: ".count).split(separator: ",").map {
        try Definition(parsing: $0.trimmingCharacters(in: .whitespaces))
    }
}

func assembleFixture(_ kind: String, _ name: String) throws -> (AssemblyResult, directory: String) {
    let directory = packageRoot.appendingPathComponent("Fixtures/mpuas/\(kind)").path
    let path = directory + "/" + name
    let source = try String(contentsOfFile: path, encoding: .utf8)
    let result = MPUAssembler.assemble(path: path, options: AssemblerOptions(definitions: try definitions(in: source)))
    return (result, directory + "/")
}

@Suite struct FixtureTests {
    @Test("ok fixtures assemble to the bytes written on each line", arguments: fixtures("ok"))
    func okFixture(_ name: String) throws {
        let (result, _) = try assembleFixture("ok", name)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.headline))")
        #expect(result.image != nil)
        var checked = 0
        for line in result.listing {
            switch Expectation.parse(line.text) {
            case .bytes(let expected):
                #expect(line.bytes == expected, "\(line.file):\(line.line): \(line.text)")
                checked += 1
            case .diagnostic:
                Issue.record("ok fixture \(line.file):\(line.line) expects a diagnostic")
            case nil:
                #expect(line.bytes.isEmpty || name.hasPrefix("slides"), "\(line.file):\(line.line) has code but no '// =' expectation")
            }
        }
        #expect(checked > 0 || name.hasPrefix("slides"))
    }

    @Test("err fixtures report exactly the diagnostics written on their lines", arguments: fixtures("err"))
    func errFixture(_ name: String) throws {
        let (result, directory) = try assembleFixture("err", name)
        #expect(result.image == nil)
        #expect(result.errorCount > 0)
        let sidecar = packageRoot.appendingPathComponent("Fixtures/mpuas/err/" + name.dropLast(2) + ".expected")
        if let expected = try? String(contentsOf: sidecar, encoding: .utf8) {
            // Whole rendered output, as mpuas prints it when run in the fixture directory.
            let rendered = result.diagnostics.map { $0.rendered().replacingOccurrences(of: directory, with: "") }
                + ["\(result.errorCount) error\(result.errorCount == 1 ? "" : "s") generated."]
            #expect(rendered.joined(separator: "\n") + "\n" == expected)
            return
        }
        struct Key: Hashable { var file: String; var line: Int; var severity: Severity; var column: Int?; var message: String }
        var expected: [Key] = []
        for line in result.listing {
            if case .diagnostic(let severity, let column, let message) = Expectation.parse(line.text) {
                expected.append(Key(file: line.file, line: line.line, severity: severity, column: column, message: message))
            }
        }
        let actual = result.diagnostics.map { d in
            let location = d.location!
            let column = expected.first { $0.file == location.file && $0.line == location.line }?.column == nil ? nil : location.column
            return Key(file: location.file, line: location.line, severity: d.severity, column: column,
                       message: d.message.replacingOccurrences(of: directory, with: ""))
        }
        func show(_ keys: [Key]) -> String {
            keys.map { "\($0.file.replacingOccurrences(of: directory, with: "")):\($0.line):\($0.column.map(String.init) ?? "-"): \($0.severity.rawValue): \($0.message)" }.joined(separator: "\n")
        }
        let missing = expected.filter { !actual.contains($0) }, unexpected = actual.filter { !expected.contains($0) }
        #expect(missing.isEmpty, "expected but not reported:\n\(show(missing))")
        #expect(unexpected.isEmpty, "reported but not expected:\n\(show(unexpected))")
        #expect(actual.count == expected.count)
        // Every diagnostic shows its line and a caret.
        for diagnostic in result.diagnostics {
            #expect(diagnostic.rendered().split(separator: "\n").count == 3, "\(diagnostic.headline)")
        }
    }

    @Test func slidesListingFailsOnlyOnTheWideImmediate() throws {
        let (result, _) = try assembleFixture("err", "slides-ept-listing.s")
        #expect(result.diagnostics.count == 1)
        let error = try #require(result.diagnostics.first)
        #expect(error.location?.line == 4)
        #expect(error.location?.column == 15)
        #expect(error.message.hasPrefix("immediate 0xffffff000 does not fit in 32 bits"))
    }

    @Test func correctedSlidesListingAssembles() throws {
        let (result, _) = try assembleFixture("ok", "slides-ept-corrected.s")
        let image = try #require(result.image)
        #expect(image.instructionCount == 17)
        // The labels the listing names, at the addresses counted by hand (8 bytes each).
        let labels = Dictionary(uniqueKeysWithValues: image.symbols.filter { $0.kind == .label }.map { ($0.name, $0.value) })
        #expect(labels == ["start": 0x00, "entry": 0x40, "ept_end": 0x78, "no_ept_end": 0x80])
    }
}
