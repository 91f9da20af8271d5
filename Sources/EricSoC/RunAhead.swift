import CPrefetch
import Foundation
import MPUSim

/// What the runs of one START do on one page, the page fetch apart: a pure function of the
/// page's bytes and address, the automata and the timing, so it can be worked out anywhere.
struct PageOutcome {
    /// Alerts in order; `due` counts MPU cycles from the first run's start.
    var alerts: [Checker.QueuedAlert] = []
    var cycles: UInt64 = 0
    var instructions: UInt64 = 0
    var hostReads: UInt64 = 0
    var faultedRuns: UInt32 = 0
    var lastFault: Fault?

    /// Runs `runners` in turn over the page; `source(i)` is what ALERT_SOURCE reads for the
    /// i-th. `scratch` is reused between calls to save allocations.
    init(count: Int, runner: (Int) -> PageRunner, source: (Int) -> UInt32, page: UnsafeRawPointer, address: UInt64, scratch: inout [Alert]) {
        var zero: Bool?
        for index in 0..<count {
            let runner = runner(index)
            if runner.reusesZeroPageRuns && zero == nil { zero = isZeroPage(page) }
            scratch.removeAll(keepingCapacity: true)
            let result = runner.run(page: page, pageAddress: address, pageIsZero: zero ?? false, alerts: &scratch)
            for alert in scratch where alert.value != 0 {
                alerts.append(Checker.QueuedAlert(value: alert.value, cycle: alert.cycle, source: source(index), due: cycles + alert.cycle, page: address))
            }
            cycles += result.cycles
            instructions += result.instructions
            hostReads += result.hostReads
            if let fault = result.fault {
                faultedRuns += 1
                lastFault = fault
            }
        }
    }
}

/// Works out START_LIST outcomes for the pages after the one the firmware just started, on
/// another thread, while the LM32 runs: firmware scans memory page after page, so the next
/// START is almost always for the next page with the same automata. A START that was not
/// foreseen is worked out on the spot. Either way the outcome is the same (it depends only
/// on the page and the automata), so findings, cycles and captures do not depend on it;
/// only the host time does.
final class RunAhead: @unchecked Sendable {
    /// The automata of one list, as the worker runs them (its own scratch states).
    final class Plan: @unchecked Sendable {
        let id: Int
        let runners: [PageRunner]
        init(id: Int, runners: [PageRunner]) {
            self.id = id
            self.runners = runners
        }
    }

    private let condition = NSCondition()
    private let window: Int
    // Under `condition`:
    private var plan: Plan?
    /// Pages still to work out: `next` ..< `end` of the range whose bytes start at `base`
    /// (physical address `baseAddress`).
    private var next: UInt64 = 0
    private var end: UInt64 = 0
    private var base: UnsafeRawPointer?
    private var baseAddress: UInt64 = 0
    /// The page the worker is on.
    private var inFlight: UInt64?
    /// Bumped when the pages to work out change, so that an outcome finished for the old
    /// ones is not kept.
    private var span = 0
    private var results: [UInt64: PageOutcome] = [:]
    private var stopped = false
    /// Who sleeps on `condition`: wake-ups cost a context switch each, so they are sent only
    /// when someone waits, and the worker resumes only once half the window is free.
    private var callerWaits = false
    private var workerWaits = false
    /// Keeps the host memory alive while the worker reads it.
    private let host: any PhysicalMemory

    init(host: any PhysicalMemory, window: Int = 256) {
        self.host = host
        self.window = window
        let thread = Thread { [self] in work() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Ends the worker (it holds the object until it has seen this).
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// The outcome for `page` under plan `id`, if it was foreseen (waiting for the worker if
    /// it is on it); nil: work it out on the spot.
    func take(page: UInt64, plan id: Int) -> PageOutcome? {
        condition.lock()
        defer { condition.unlock() }
        guard plan?.id == id else { return nil }
        // The worker is on this very page and finishes it within microseconds: poll a little
        // before sleeping, since a sleep and a wake-up cost more than the page.
        var polls = 0
        while inFlight == page {
            if polls < 4096 {
                polls += 1
                condition.unlock()
                sched_yield()
                condition.lock()
                continue
            }
            callerWaits = true
            condition.wait()
        }
        callerWaits = false
        guard let outcome = results.removeValue(forKey: page) else {
            // The worker is behind: the caller works this page out, the worker skips it.
            if next == page { next += 4096 }
            return nil
        }
        if workerWaits && results.count <= window / 2 { condition.broadcast() }
        return outcome
    }

    /// The firmware started `page` of the range at `rangeBase` (`rangeStart` ..< `rangeEnd`)
    /// under `plan`: foresee the pages after it, unless that is under way already.
    func foresee(after page: UInt64, rangeStart: UInt64, rangeEnd: UInt64, rangeBase: UnsafeRawPointer, plan newPlan: () -> Plan, id: Int) {
        condition.lock()
        defer { condition.unlock() }
        let following = page + 4096
        if plan?.id == id && base == rangeBase && (results[following] != nil || inFlight == following || next == following) { return }
        if plan?.id != id { plan = newPlan() }
        results.removeAll(keepingCapacity: true)
        span += 1
        next = following
        end = rangeEnd / 4096 * 4096
        base = rangeBase
        baseAddress = rangeStart
        condition.broadcast()
    }

    private func work() {
        var scratch: [Alert] = []
        // Pages worked out are given back to the system a megabyte at a time from `mark` (the
        // direct scanner does the same): the SoC's memory stays flat whatever the dump's size.
        var mark: UInt64 = 0, markSpan = -1
        condition.lock()
        while true {
            while !stopped && (plan == nil || next + 4096 > end || results.count >= (workerWaits ? window / 2 : window)) {
                workerWaits = true
                condition.wait()
            }
            workerWaits = false
            if stopped { break }
            let page = next, plan = plan!, bytes = base! + Int(page - baseAddress), span = span
            next += 4096
            inFlight = page
            condition.unlock()
            // Most automata read a page's first words first: ask for those of the page four
            // ahead now, as the direct scanner does.
            if page + 5 * 4096 <= end { eric_prefetch(bytes + 4 * 4096) }
            let outcome = PageOutcome(count: plan.runners.count, runner: { plan.runners[$0] }, source: { UInt32($0) },
                                      page: bytes, address: page, scratch: &scratch)
            if markSpan != span { (mark, markSpan) = (page, span) }
            if page + 4096 - mark >= 1 << 20 {
                host.release(bytes - Int(page - mark), count: Int(page + 4096 - mark))
                mark = page + 4096
            }
            condition.lock()
            // A plan or range changed meanwhile: the outcome is for nothing anyone will ask.
            if self.span == span { results[page] = outcome }
            inFlight = nil
            if callerWaits { condition.broadcast() }
        }
        condition.unlock()
    }
}
