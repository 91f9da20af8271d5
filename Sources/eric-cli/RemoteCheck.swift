import AlertProtocol
import CLISupport
import Correlation
import Integrity
import Sealing
import MPUSim
import Verifier

/// Why a sweep gives no verdict (the records or the evidence do not hold).
struct RemoteCheckError: Error, CustomStringConvertible {
    let description: String
}

extension Listen {
    /// `eric listen --baseline`: the sweep just received, and the evidence the board reads for
    /// it, judged against the baseline as `eric check` judges a dump (docs/integrity.md, "From
    /// the wire"): whether a verdict is suspicious, and the host's state. With `--write-state`,
    /// the state is written too (after the check, if there is one). `problemsBefore`: the
    /// records found forged, replayed or missing before this sweep (with --keep-going).
    func judge(_ receiver: Receiver, baseline then: HostState?, board: String, problemsBefore: Int) throws(RemoteCheckError) -> (Bool, HostState) {
        let (now, pages) = try remoteState(receiver, board: board, previous: then, problemsBefore: problemsBefore)
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
        return (suspicious, now)
    }

    /// The host's state from the sweep's records and the board's evidence (READ, MAP, DIGEST).
    /// Nothing is made from a sweep whose records do not all hold, or that did not check the
    /// whole host.
    func remoteState(_ receiver: Receiver, board: String, previous: HostState?, problemsBefore: Int) throws(RemoteCheckError) -> (HostState, BoardPages) {
        let problems = receiver.forged + receiver.replayed + receiver.missingRecords
        guard problems == problemsBefore else {
            throw RemoteCheckError(description: "the sweep's records do not all hold (\(problems - problemsBefore) forged, replayed or missing; see above): no verdict")
        }
        guard let summary = receiver.genuine.last, summary.kind == .summary else {
            throw RemoteCheckError(description: "the sweep ended without its summary record: no verdict")
        }
        guard let key, let bootNonce = summary.authentication?.bootNonce else {
            throw RemoteCheckError(description: "the sweep's records are not authenticated (a board without a key answers no evidence request): no verdict")
        }
        guard summary.faults == 0 else {
            throw RemoteCheckError(description: "\(summary.faults) runs of the sweep faulted: no verdict from part of a host")
        }
        do {
            let link = try BoardLink(url: board)
            let source = EvidenceSource(link: link, deviceKey: loadDeviceKey(key), bootNonce: bootNonce)
            let pages = try BoardPages(source: source, known: (previous?.code ?? []).map { ($0.physical, [UInt8]($0.bytes)) })
            guard UInt64(summary.page) == wholePages(pages.memoryMap) else {
                throw RemoteCheckError(description: "the sweep checked \(summary.page) pages of a host of \(wholePages(pages.memoryMap)) whole pages: no verdict from part of a host")
            }
            let automata = shippedAutomata()
            let outcome = SweepRecords(records: receiver.genuine, automata: automata)
                .correlated(with: CorrelatedScan(automata: automata, options: ScanOptions()), memoryMap: pages.memoryMap)
            return (try StateReader().state(of: pages, reports: outcome.reports, previous: previous), pages)
        } catch let error as RemoteCheckError {
            throw error
        } catch {
            throw RemoteCheckError(description: "\(error)")
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
