import AlertProtocol
import CLISupport
import Correlation
import Integrity
import Sealing
import MPUSim
import Verifier

extension Listen {
    /// `eric listen --baseline`: the sweep just received, and the evidence the board reads for
    /// it, judged against the baseline as `eric check` judges a dump (docs/integrity.md, "From
    /// the wire"); whether a verdict is suspicious. With `--write-state`, the state is written
    /// too (after the check, if there is one).
    func judge(_ receiver: Receiver, baseline then: HostState?, board: String) -> Bool {
        let (now, pages) = remoteState(receiver, board: board, previous: then)
        Console.error("eric: \(pages.reads) blocks of evidence read from \(board), \(pages.confirmed) pages of the baseline's code confirmed by the checker's digest")
        var suspicious = false
        if let then, let baseline {
            let (text, found) = Check.judge(then, now, json: json, dump: board, baseline: baseline)
            Console.write(text)
            suspicious = found
            if update { saveState(now, to: baseline) }
        }
        if let writeState = self.writeState {
            saveState(now, to: writeState)
            Console.error("eric: \(describe(now)); state written to \(writeState)")
        }
        return suspicious
    }

    /// The host's state from the sweep's records and the board's evidence (READ, MAP). Nothing
    /// is made from a sweep whose records do not all hold, or that did not check the whole host.
    func remoteState(_ receiver: Receiver, board: String, previous: HostState?) -> (HostState, BoardPages) {
        Console.write(receiver.missing())
        guard receiver.forged + receiver.replayed + receiver.missingRecords == 0 else {
            Console.fail("eric: error: the sweep's records do not all hold (\(receiver.forged) forged, \(receiver.replayed) replayed, \(receiver.missingRecords) missing): no verdict", code: 2)
        }
        guard let summary = receiver.genuine.last, summary.kind == .summary else {
            Console.fail("eric: error: the sweep ended without its summary record: no verdict", code: 2)
        }
        if key == nil { Console.error("eric: warning: no --key: the records and the board's evidence are not authenticated") }
        guard summary.faults == 0 else {
            Console.fail("eric: error: \(summary.faults) runs of the sweep faulted: no verdict from part of a host", code: 2)
        }
        do {
            let link = try BoardLink(url: board)
            let source = EvidenceSource(link: link, authenticator: key.map { RecordAuthenticator(deviceKey: loadDeviceKey($0)) },
                                        bootNonce: summary.authentication?.bootNonce)
            let pages = try BoardPages(source: source, known: (previous?.code ?? []).map { ($0.physical, [UInt8]($0.bytes)) })
            guard UInt64(summary.page) == wholePages(pages.memoryMap) else {
                Console.fail("eric: error: the sweep checked \(summary.page) pages of a host of \(wholePages(pages.memoryMap)) whole pages: no verdict from part of a host", code: 2)
            }
            let automata = shippedAutomata()
            let outcome = SweepRecords(records: receiver.genuine, automata: automata)
                .correlated(with: CorrelatedScan(automata: automata, options: ScanOptions()), memoryMap: pages.memoryMap)
            return (try StateReader().state(of: pages, reports: outcome.reports, previous: previous), pages)
        } catch {
            Console.fail("eric: error: \(error)", code: 2)
        }
    }

    /// Whole 4 KiB pages in a memory map, as the firmware counts them (each range's start
    /// rounded up to a page).
    func wholePages(_ map: [[UInt64]]) -> UInt64 {
        map.map { range in
            let start = (range[0] + 4095) & ~4095
            let end = range[0] + range[1]
            return end > start ? (end - start) / 4096 : 0
        }.saturatingSum()
    }
}
