import AsmKit
import MPUISA

extension Assembly {
    // MARK: Symbol lookup

    /// Resolves a name at a site. In pass 1 (`final == false`, for `.set` and `.if`) only
    /// what is defined above is visible; in pass 2 every label and constant is.
    mutating func lookup(_ name: String, at site: Site, final: Bool) -> SymbolLookup {
        if name == "." { return .value(Int64(site.address)) }
        let full = name.hasPrefix(".") ? site.scope + name : name
        if let value = site.sets[full] { return .value(value) }
        if definitions[full]?.kind == .set { return .unavailable("'\(name)' is used before its first .set") }
        if constants[full] != nil { return resolveConstant(full, final: final) }
        if let address = labels[full] { return .value(Int64(address)) }
        if RegisterName(name) != nil { return .unavailable("'\(name)' is a register; registers are written without '$'") }
        if !final { return .unavailable("'\(name)' is not defined above this line (.set and .if only see earlier definitions)") }
        var message = name.hasPrefix(".") ? "undefined local label '\(name)'" + (site.scope.isEmpty ? "" : " (in the scope of '\(site.scope)')") : "undefined symbol '\(name)'"
        // The same local name in another scope: say where, rather than suggest the name typed.
        if name.hasPrefix("."), let other = labels.keys.filter({ $0 != full && $0.hasSuffix(name) }).min() {
            let owner = other.dropLast(name.count)
            message += owner.isEmpty ? "; '\(name)' is defined before the first label, and only lines above that label see it"
                                     : "; '\(name)' is local to '\(owner)' (write '\(other)' to reach it from here)"
            return .unavailable(message)
        }
        let known = Array(labels.keys) + Array(constants.keys)
        if let suggestion = Spelling.nearest(to: full, in: known) {
            message += "; did you mean '\(suggestion)'?"
        }
        return .unavailable(message)
    }

    mutating func resolveConstant(_ name: String, final: Bool) -> SymbolLookup {
        guard var constant = constants[name] else { return .undefined }
        switch constant.state {
        case .resolved: return .value(constant.value!)
        case .failed: return .unavailable("")
        case .resolving: return .unavailable("'\(name)' is defined in terms of itself")
        case .unresolved: break
        }
        constants[name]!.state = .resolving
        do throws(ExpressionError) {
            let value = try constant.expression!.evaluate { lookup($0, at: constant.site, final: final) }
            constant.value = value
            constant.state = .resolved
            constants[name] = constant
            return .value(value)
        } catch {
            guard final else {
                // Pass 1: it may resolve once later labels are known.
                constants[name]!.state = .unresolved
                return .unavailable(error.message)
            }
            constants[name]!.state = .failed
            report(error, at: constant.site)
            return .unavailable("")
        }
    }

    mutating func report(_ error: ExpressionError, at site: Site) {
        guard !error.message.isEmpty else { return } // already reported where it arose
        var location = site.location
        location.column = error.column
        location.length = error.length
        sink.error(error.message, at: location, line: site.sourceLine)
    }

    /// Evaluates in pass 1 (for `.set` and `.if`), reporting failures.
    mutating func evaluateNow(_ expression: Expression, line: LineContext) -> Int64? {
        evaluate(expression, at: site(line), final: false)
    }

    mutating func evaluate(_ expression: Expression, at site: Site, final: Bool) -> Int64? {
        do throws(ExpressionError) {
            return try expression.evaluate { lookup($0, at: site, final: final) }
        } catch {
            report(error, at: site)
            return nil
        }
    }

    // MARK: Pass 2

    mutating func passTwo() {
        for name in constantOrder { _ = resolveConstant(name, final: true) }
        for pending in instructions { encode(pending) }

        if let (expression, site) = entry, let value = evaluate(expression, at: site, final: true) {
            if value < 0 || value % Int64(InstructionSet.instructionBytes) != 0 || value >= Int64(max(code.count, 1)) {
                var location = site.location
                location.column = expression.span.start
                location.length = expression.span.end - expression.span.start
                sink.error("entry point \(Assembly.literal(value)) is not the address of an instruction", at: location, line: site.sourceLine)
            } else {
                entryAddress = UInt32(value)
            }
        }

        var alertValues: [UInt64: String] = [:]
        for alert in alerts {
            guard case .value(let signed) = resolveConstant(alert.name, final: true) else { continue }
            let value = UInt64(bitPattern: signed)
            let location = definitions[alert.name]?.location ?? alert.site.location
            if value == 0 {
                sink.error("alert value 0 cannot name an alert: 'int' of 0 ends the run", at: location, line: alert.site.sourceLine)
            } else if let other = alertValues[value] {
                sink.error("alert value \(Assembly.literal(signed)) is already named '\(other)'", at: location, line: alert.site.sourceLine)
            } else {
                alertValues[value] = alert.name
                metadataAlerts.append(MPUAlert(value: value, name: alert.name, description: alert.description))
            }
        }
        var carried: Set<UInt64> = []
        for follow in follows {
            guard let alert = metadataAlerts.first(where: { $0.name == follow.alert }) else {
                sink.error("'\(follow.alert)' is not an alert of this automaton (declare it with .alert)", at: follow.location, line: follow.site.sourceLine)
                continue
            }
            guard carried.insert(alert.value).inserted else {
                sink.error("'\(follow.alert)' already carries an operand or a follow-up", at: follow.location, line: follow.site.sourceLine)
                continue
            }
            guard let automaton = follow.automaton else {
                metadataOperands.append(alert.value)
                continue
            }
            var depth: UInt8 = 1
            if let expression = follow.depth {
                guard let value = evaluate(expression, at: follow.site, final: true) else { continue }
                guard (1...16).contains(value) else {
                    sink.error("follow-up depth \(Assembly.literal(value)) is outside 1..16", at: follow.location, line: follow.site.sourceLine)
                    continue
                }
                depth = UInt8(value)
            }
            metadataFollows.append(MPUFollow(value: alert.value, automaton: automaton, depth: depth))
        }
    }

    mutating func encode(_ pending: PendingInstruction) {
        var instruction = Instruction(opcode: pending.spec.opcode, size: pending.size, format: pending.format, registers: pending.registers)
        if let expression = pending.immediate {
            guard let value = evaluate(expression, at: pending.site, final: true) else { return }
            let form = pending.spec.immediateForm!
            let mnemonic = pending.spec.mnemonic + String(pending.size.suffix)
            if let problem = Assembly.immediateProblem(value, size: pending.size, role: form.immediate, mnemonic: mnemonic, name: form.immediateName) {
                var location = pending.site.location
                location.column = pending.immediateColumn
                location.length = expression.span.end - pending.immediateColumn
                sink.error(problem, at: location, line: pending.site.sourceLine)
                return
            }
            if pending.spec.opcode == .jmp && value % Int64(InstructionSet.instructionBytes) != 0 {
                var location = pending.site.location
                location.column = pending.immediateColumn
                location.length = expression.span.end - pending.immediateColumn
                sink.error("jump target \(Assembly.literal(value)) is not an instruction address (a multiple of 8)", at: location, line: pending.site.sourceLine)
                return
            }
            let fieldBits = form.immediate == .address ? 32 : pending.size.immediateBits
            let fieldMask: UInt64 = fieldBits == 32 ? 0xffff_ffff : (1 << UInt64(fieldBits)) - 1
            instruction.immediate = UInt32(UInt64(bitPattern: value) & fieldMask)
        }
        let bytes = instruction.bytes
        let offset = pending.site.address
        if code.count < offset + bytes.count { code += [UInt8](repeating: 0, count: offset + bytes.count - code.count) }
        code.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        listing[pending.listingIndex].address = offset
        listing[pending.listingIndex].bytes = bytes
    }

    /// Why `value` cannot be the immediate of this instruction, or nil if it fits.
    /// Data values may be written signed or unsigned at b/w/d; at q the 32-bit field is
    /// sign-extended, so only values that survive that round trip fit.
    static func immediateProblem(_ value: Int64, size: OperandSize, role: ImmediateRole, mnemonic: String, name: String) -> String? {
        let bits = role == .address ? 32 : size.immediateBits
        let low: Int64, high: Int64
        switch (role, size) {
        case (.value, .q): low = -(1 << 31); high = (1 << 31) - 1
        case (.value, _): low = -(1 << (bits - 1)); high = (1 << bits) - 1
        case (.address, _): low = 0; high = (1 << 32) - 1
        }
        guard value < low || value > high else { return nil }
        let range = "\(mnemonic) takes \(literal(low))..\(literal(high))"
        if role == .address && value < 0 {
            return "\(name) \(literal(value)) is negative (\(range))"
        }
        if size == .q && role == .value {
            return "immediate \(literal(value)) does not fit in 32 bits: q immediates are sign-extended from 32 bits (\(range); build wider values with loadd rN_0 and loadd rN_1)"
        }
        let what = role == .value ? "immediate" : name
        return "\(what) \(literal(value)) does not fit in \(bits) bits (\(range))"
    }

    static func literal(_ value: Int64) -> String {
        value < 0 ? "-0x" + String(UInt64(bitPattern: 0 &- value), radix: 16) : value < 10 ? "\(value)" : "0x" + String(value, radix: 16)
    }

    // MARK: Result

    func result() -> AssemblyResult {
        // Report in source order whatever pass found the problem.
        var order: [String: Int] = [:]
        for (index, line) in listing.enumerated() where order["\(line.file):\(line.line)"] == nil {
            order["\(line.file):\(line.line)"] = index
        }
        let diagnostics = sink.diagnostics.enumerated().sorted { a, b in
            func key(_ d: Diagnostic) -> (Int, Int) {
                guard let location = d.location, location.line > 0 else { return (-1, 0) }
                return (order["\(location.file):\(location.line)"] ?? Int.max, location.column)
            }
            let (ka, kb) = (key(a.element), key(b.element))
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)

        var image: MPUImage?
        if !sink.hasErrors {
            var symbols: [MPUSymbol] = labels.map { MPUSymbol(name: $0.key, kind: .label, value: UInt64($0.value)) }
                .sorted { ($0.value, $0.name) < ($1.value, $1.name) }
            symbols += constants.compactMap { name, constant in
                constant.value.map { MPUSymbol(name: name, kind: .constant, value: UInt64(bitPattern: $0)) }
            }.sorted { $0.name < $1.name }
            image = MPUImage(
                entry: entryAddress, code: code, symbols: symbols,
                metadata: MPUMetadata(name: automatonName?.0, description: automatonDescription?.0, alerts: metadataAlerts,
                                      follows: metadataFollows, operands: metadataOperands, followUpOnly: followUpOnly))
        }
        return AssemblyResult(image: image, diagnostics: diagnostics, listing: listing, files: files)
    }
}
