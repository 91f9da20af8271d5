import AsmKit
import LM32ISA

extension LM32Assembly {
    /// Pass-2 values: labels are addresses now; `.` is the statement's own address.
    mutating func lookup(_ name: String, at address: UInt32) -> SymbolLookup {
        if name == "." { return .value(Int64(address)) }
        if let label = addresses[name] { return .value(Int64(label)) }
        guard var constant = constants[name] else {
            if let mark = name.firstIndex(of: "\u{2}") {
                return .unavailable("'\(name[..<mark])f' refers to a '\(name[..<mark]):' label after this line, and there is none")
            }
            return .undefined
        }
        if let value = constant.value { return .value(value) }
        guard !constant.resolving, let expression = constant.expression else { return .unavailable("'\(name)' is defined in terms of itself") }
        constant.resolving = true
        constants[name] = constant
        var failure: ExpressionError?
        var value: Int64?
        do throws(ExpressionError) { value = try expression.evaluate { lookup($0, at: address) } } catch { failure = error }
        constant.resolving = false
        constant.value = value
        constants[name] = constant
        if let failure { return .unavailable("'\(name)' cannot be evaluated: \(failure.message)") }
        return .value(value!)
    }

    mutating func value(_ expression: Expression, _ site: Site, at address: UInt32) -> Int64? {
        do throws(ExpressionError) {
            return try expression.evaluate { lookup($0, at: address) }
        } catch {
            self.error(error.message, site, column: error.column, length: error.length)
            return nil
        }
    }

    /// Bytes of a fill the listing shows (GNU as also abbreviates long fills).
    static let listedFillBytes: UInt32 = 16

    mutating func passTwo() {
        var images: [SectionName: [UInt8]] = [:]
        for name in SectionName.allCases where name != .bss { images[name] = [UInt8](repeating: 0, count: Int(offsets[name]!)) }
        for item in items {
            let address = bases[item.section]! &+ item.offset
            var bytes: [UInt8] = []
            switch item.payload {
            case .bytes(let stored): bytes = stored
            case .fill(let count, let byte):
                // In place (the image starts as zeros); the listing shows the first bytes only.
                if item.section != .bss && byte != 0 {
                    images[item.section]!.withUnsafeMutableBufferPointer { image in
                        image[Int(item.offset)..<Int(item.offset + count)].update(repeating: byte)
                    }
                }
                if listing[item.listingIndex].address == nil { listing[item.listingIndex].address = address }
                listing[item.listingIndex].bytes += [UInt8](repeating: byte, count: Int(min(count, Self.listedFillBytes)))
                continue
            case .data(let size, let values):
                for expression in values {
                    guard let v = value(expression, item.site, at: address) else { continue }
                    let low = -(Int64(1) << (size * 8 - 1)), high = (Int64(1) << (size * 8)) - 1
                    if v < low || v > high {
                        let span = expression.span
                        error("value \(v) does not fit in \(size * 8) bits (\(low) to \(high))", item.site, column: span.start, length: span.end - span.start)
                    }
                    bytes += (0..<size).map { UInt8(truncatingIfNeeded: v >> Int64(8 * (size - 1 - $0))) }
                }
            case .instruction(let mnemonic, let operands, let endColumn):
                if let word = encode(mnemonic, operands, site: item.site, address: address, endColumn: endColumn) {
                    bytes = (0..<4).map { UInt8(truncatingIfNeeded: word >> UInt32(24 - 8 * $0)) }
                }
            }
            if item.section != .bss && bytes.count == Int(item.size) {
                images[item.section]!.replaceSubrange(Int(item.offset)..<Int(item.offset + item.size), with: bytes)
            }
            if listing[item.listingIndex].address == nil { listing[item.listingIndex].address = address }
            listing[item.listingIndex].bytes += bytes
        }
        sectionImages = images
        for (name, site) in globals where addresses[name] == nil && constants[name] == nil {
            error("'.global \(name)': no such label", site, column: site.location.column, length: site.location.length)
        }
    }

    /// Diagnostics in source order (files in the order first read), whichever pass found them.
    var orderedDiagnostics: [Diagnostic] {
        var fileOrder: [String: Int] = [:]
        for line in listing where fileOrder[line.file] == nil { fileOrder[line.file] = fileOrder.count }
        return sink.diagnostics.enumerated().sorted { a, b in
            func key(_ d: Diagnostic) -> (Int, Int, Int) {
                guard let location = d.location, location.line > 0 else { return (Int.max, 0, 0) }
                return (fileOrder[location.file] ?? Int.max, location.line, location.column)
            }
            let (ka, kb) = (key(a.element), key(b.element))
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
    }

    func result() -> LM32AssemblyResult {
        guard !sink.hasErrors else { return LM32AssemblyResult(program: nil, diagnostics: orderedDiagnostics, listing: listing) }
        let sections = SectionName.allCases.map { name in
            LM32Program.Section(name: name, address: bases[name]!, bytes: sectionImages[name] ?? [],
                                size: offsets[name]!, alignment: alignments[name]!)
        }
        var symbols: [(name: String, address: UInt32, section: SectionName?, isGlobal: Bool)] = labels
            .filter { !$0.key.hasPrefix(".L") && !$0.key.contains("\u{2}") }
            .sorted { ($0.value.section.rawValue, $0.value.offset, $0.key) < ($1.value.section.rawValue, $1.value.offset, $1.key) }
            .map { (name: $0.key, address: addresses[$0.key]!, section: $0.value.section, isGlobal: globals[$0.key] != nil) }
        // Constants from the source (not -D) are absolute symbols, as GNU as writes them.
        for (name, constant) in constants.sorted(by: { $0.key < $1.key }) where constant.site.location.line > 0 && !name.hasPrefix(".L") {
            guard let value = constant.value else { continue }
            symbols.append((name: name, address: UInt32(truncatingIfNeeded: value), section: nil, isGlobal: globals[name] != nil))
        }
        let program = LM32Program(sections: sections, symbols: symbols, entry: addresses["_start"] ?? bases[.text]!)
        return LM32AssemblyResult(program: program, diagnostics: orderedDiagnostics, listing: listing)
    }
}
