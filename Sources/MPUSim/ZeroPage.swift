import MPUISA

/// What an automaton does on a page of zeros, when that cannot depend on the page's address.
///
/// A run depends only on the page's bytes and on r15 (the page's address); every other
/// register starts at zero. On a zero page the bytes are the same for every page, so if the
/// run never reads r15's initial value, every zero page gives the same run: the same path,
/// counts, cycles and alerts. That is checked on the actual path of a zero-page run: walking the
/// executed instructions, a read of r15 before a plain write has replaced it makes the result
/// address-dependent, and such an automaton keeps running on each zero page. Real memory is
/// often half zero pages (free memory), so this saves most of a scan's work, exactly.
struct ZeroPageResult: Sendable {
    var run: RunResult
    var alerts: [Alert]
}

/// Notes each instruction the first time it runs, in that order: whether a run reads r15
/// before replacing it depends only on those first executions (a later one of the same
/// instruction comes after the earliest replacement if its first one did).
struct FirstExecutions: ExecutionObserver {
    var seen: [Bool]
    var order: [Int] = []
    init(instructionCount: Int) { seen = Array(repeating: false, count: instructionCount) }
    mutating func willExecute(pc: Int, cycle: UInt64, registers: UnsafePointer<UInt64>) {
        let index = pc / InstructionSet.instructionBytes
        if index < seen.count && !seen[index] {
            seen[index] = true
            order.append(pc)
        }
    }
    mutating func didReadHost(offset: UInt64, bytes: Int, value: UInt64) {}
    mutating func didExecute(pc: Int, cycle: UInt64, registers: UnsafePointer<UInt64>) {}
}

extension Automaton {
    func zeroPageResult(timing: TimingModel) -> ZeroPageResult? {
        let zeros = [UInt8](repeating: 0, count: InstructionSet.pageBytes)
        var observer = FirstExecutions(instructionCount: instructionCount)
        var alerts: [Alert] = []
        let run = zeros.withUnsafeBytes {
            MPU(timing: timing).run(self, page: $0.baseAddress!, pageAddress: 0, alerts: &alerts, observer: &observer)
        }
        // A faulting instruction's fault may name r15's value.
        guard run.fault == nil else { return nil }
        for pc in observer.order {
            guard let instruction = instruction(at: pc) else { return nil }
            for (register, spec) in zip(instruction.registers, instruction.registerSpecs) where register.number == 15 {
                switch spec.role {
                case .source, .target, .pageOffset, .accumulator: return nil
                case .destination: break
                }
            }
            // A plain write replaces the whole register (a sub-register write keeps the rest):
            // from here on nothing depends on the address.
            if let index = instruction.registerSpecs.firstIndex(where: { $0.role == .destination || $0.role == .accumulator }),
               instruction.registers[index].number == 15, instruction.registers[index].slot == nil {
                break
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
