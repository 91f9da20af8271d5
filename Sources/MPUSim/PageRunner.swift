import MPUISA

/// One automaton made ready to run page after page, on its own, with the fastest engine that
/// gives the exact result: its run reused on zero pages when the address cannot matter
/// (ZeroPage.swift), else its compiled code (NativeTier.swift) when there is some, else the
/// interpreter. The scanner and the SoC's checker run automata through it.
///
/// Not thread-safe: it owns the compiled code's scratch state (`init(sharing:)` makes one
/// for another thread).
public final class PageRunner {
    public let automaton: Automaton
    public let mpu: MPU
    let program: RunnableProgram
    let native: NativeFunction?
    let nativeEntry: NativeFunction.Entry?
    /// The run on every zero page (ZeroPageResult's two parts: reading them copies no struct
    /// holding an array); nil when the address may matter or reuse is off.
    let zeroRunResult: RunResult?
    let zeroRunAlerts: [Alert]
    let state: UnsafeMutablePointer<UInt64>

    /// Prepares `automaton` under `timing`. `.automatic` falls back to the interpreter when the
    /// code cannot be compiled; `.compiled` throws then.
    public init(_ automaton: Automaton, timing: TimingModel, engine: Engine = .automatic,
                reuseZeroPageRuns: Bool = true) throws(NativeCompileError) {
        self.automaton = automaton
        mpu = MPU(timing: timing)
        program = automaton.runnable
        switch engine {
        case .interpreter: native = nil
        case .automatic: native = try? automaton.compiled()
        case .compiled: native = try automaton.compiled()
        }
        nativeEntry = native?.entry
        // With the zero-page flag the device itself reuses the run, at no cost: then it is not
        // a host-side shortcut that can be turned off.
        let zeroRun = reuseZeroPageRuns || timing.skipsZeroPages ? automaton.zeroPageResult(timing: timing) : nil
        if timing.skipsZeroPages, let zeroRun {
            zeroRunResult = RunResult(fault: zeroRun.run.fault)
            zeroRunAlerts = zeroRun.alerts.map { Alert(value: $0.value, pc: $0.pc, cycle: 0) }
        } else {
            zeroRunResult = zeroRun?.run
            zeroRunAlerts = zeroRun?.alerts ?? []
        }
        state = .allocate(capacity: NativeCode.Layout.size / 8)
        mpu.prepare(nativeState: state)
    }

    /// The interpreter only: cannot fail.
    public convenience init(interpreting automaton: Automaton, timing: TimingModel, reuseZeroPageRuns: Bool = true) {
        // An interpreter-only runner compiles nothing, so it has nothing to throw.
        try! self.init(automaton, timing: timing, engine: .interpreter, reuseZeroPageRuns: reuseZeroPageRuns)
    }

    /// Another runner of the same prepared automaton (nothing compiled or traced again), with
    /// its own scratch state: one per thread.
    public init(sharing other: PageRunner) {
        automaton = other.automaton
        mpu = other.mpu
        program = other.program
        native = other.native
        nativeEntry = other.nativeEntry
        zeroRunResult = other.zeroRunResult
        zeroRunAlerts = other.zeroRunAlerts
        state = .allocate(capacity: NativeCode.Layout.size / 8)
        mpu.prepare(nativeState: state)
    }

    deinit { state.deallocate() }

    /// Whether compiled code runs this automaton.
    public var isCompiled: Bool { native != nil }

    /// Whether zero pages reuse one run.
    public var reusesZeroPageRuns: Bool { zeroRunResult != nil }

    /// Runs over the 4 KiB `page` at `pageAddress`; alerts are appended to `alerts`.
    /// `pageIsZero` (from `isZeroPage`) lets a zero page reuse the stored run; pass false
    /// when unknown.
    public func run(page: UnsafeRawPointer, pageAddress: UInt64, pageIsZero: Bool, alerts: inout [Alert]) -> RunResult {
        if pageIsZero, let reused = zeroRunResult {
            if !zeroRunAlerts.isEmpty { alerts += zeroRunAlerts }
            return reused
        }
        if let entry = nativeEntry {
            return mpu.run(program, native: entry, state: state, page: page, pageAddress: pageAddress, alerts: &alerts)
        }
        return mpu.interpret(program, page: page, pageAddress: pageAddress, alerts: &alerts)
    }
}
