/// One executed instruction, as a trace shows it.
public struct TraceStep: Sendable, Hashable {
    public struct RegisterChange: Sendable, Hashable {
        public var register: Int
        public var old: UInt64
        public var new: UInt64
    }

    public struct HostRead: Sendable, Hashable {
        public var offset: UInt64
        public var bytes: Int
        public var value: UInt64
    }

    public var pc: Int
    /// Cycle count before the instruction.
    public var cycle: UInt64
    /// Cycles it took.
    public var cycles: UInt64
    public var changes: [RegisterChange]
    public var reads: [HostRead]
}

/// Records every step of a run: registers changed and host words read.
public struct TraceRecorder: ExecutionObserver {
    public private(set) var steps: [TraceStep] = []
    private var before = [UInt64](repeating: 0, count: 16)
    private var current: TraceStep?

    public init() {}

    public mutating func willExecute(pc: Int, cycle: UInt64, registers: UnsafePointer<UInt64>) {
        for index in 0..<16 { before[index] = registers[index] }
        current = TraceStep(pc: pc, cycle: cycle, cycles: 0, changes: [], reads: [])
    }

    public mutating func didReadHost(offset: UInt64, bytes: Int, value: UInt64) {
        current?.reads.append(TraceStep.HostRead(offset: offset, bytes: bytes, value: value))
    }

    public mutating func didExecute(pc: Int, cycle: UInt64, registers: UnsafePointer<UInt64>) {
        guard var step = current else { return }
        step.cycles = cycle - step.cycle
        // Register 16 is where writes to r0 go: not architectural, not shown.
        for index in 0..<16 where registers[index] != before[index] {
            step.changes.append(TraceStep.RegisterChange(register: index, old: before[index], new: registers[index]))
        }
        steps.append(step)
        current = nil
    }
}

extension MPU {
    /// Runs with a trace of every executed instruction.
    public func trace(_ automaton: Automaton, page: UnsafeRawPointer, pageAddress: UInt64) -> (RunResult, [Alert], [TraceStep]) {
        var recorder = TraceRecorder()
        var alerts: [Alert] = []
        let result = run(automaton, page: page, pageAddress: pageAddress, alerts: &alerts, observer: &recorder)
        return (result, alerts, recorder.steps)
    }
}
