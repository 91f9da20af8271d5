import MPUISA

/// What an automaton does on a page of zeros, when that cannot depend on the page's address.
///
/// A run depends only on the page's bytes and on r15 (the page's address); every other
/// register starts at zero. On a zero page the bytes are the same for every page, so if the
/// run never reads r15's initial value, every zero page gives the same run: the same path,
/// counts, cycles and alerts. That is checked on the actual path, from a trace: walking the
/// executed instructions, a read of r15 before a plain write has replaced it makes the result
/// address-dependent, and such an automaton keeps running on each zero page. Real memory is
/// often half zero pages (free memory), so this saves most of a scan's work, exactly.
struct ZeroPageResult: Sendable {
    var run: RunResult
    var alerts: [Alert]
}

extension Automaton {
    func zeroPageResult(timing: TimingModel) -> ZeroPageResult? {
        let zeros = [UInt8](repeating: 0, count: InstructionSet.pageBytes)
        let (run, alerts, steps) = zeros.withUnsafeBytes { MPU(timing: timing).trace(self, page: $0.baseAddress!, pageAddress: 0) }
        // A faulting instruction is not in the trace (and its fault may name r15's value).
        guard run.fault == nil else { return nil }
        var replaced = false
        for step in steps {
            guard let instruction = instruction(at: step.pc) else { return nil }
            for (register, spec) in zip(instruction.registers, instruction.registerSpecs) where register.number == 15 {
                switch spec.role {
                case .source, .target, .pageOffset, .accumulator:
                    if !replaced { return nil }
                case .destination:
                    break
                }
            }
            // A plain write replaces the whole register (a sub-register write keeps the rest).
            if let index = instruction.registerSpecs.firstIndex(where: { $0.role == .destination || $0.role == .accumulator }),
               instruction.registers[index].number == 15, instruction.registers[index].slot == nil {
                replaced = true
            }
        }
        return ZeroPageResult(run: run, alerts: alerts)
    }
}

/// Whether a 4 KiB page is all zero; most other pages answer at their first word.
@inline(__always)
public func isZeroPage(_ page: UnsafeRawPointer) -> Bool {
    var offset = 0
    while offset < InstructionSet.pageBytes {
        // Four words at a time: one branch per 32 bytes.
        let a = page.loadUnaligned(fromByteOffset: offset, as: UInt64.self) | page.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
        let b = page.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self) | page.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self)
        if a | b != 0 { return false }
        offset += 32
    }
    return true
}
