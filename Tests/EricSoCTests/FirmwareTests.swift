import AlertProtocol
import ELF32
import EricSoC
import Foundation
import LM32Asm
import MPUAsm
import MPUSim
import ShippedAutomata
import Testing
import TestSupport

/// firmware/eric.S on the SoC over the bundled example dump must find exactly what the direct
/// scanner finds with the same automata: same pages, automata and values.
@Suite struct FirmwareTests {
    /// The shipped automata of the sweep (follow-up ones never run on every page).
    static func shipped() -> [Automaton] {
        ShippedAutomata.sources.map { file, source in
            Automaton(image: MPUAssembler.assemble(source: source, name: file).image!, name: String(file.dropLast(2)))
        }.filter { !$0.metadata.followUpOnly }
    }

    struct Finding: Hashable, CustomStringConvertible {
        var page: UInt64, automaton: Int, value: UInt64
        var description: String { "page 0x\(String(page, radix: 16)) automaton \(automaton) value 0x\(String(value, radix: 16))" }
    }

    @Test func findsWhatTheDirectScannerFinds() throws {
        let firmware = LM32Assembler.assemble(path: packageRoot.appendingPathComponent("firmware/eric.S").path)
        #expect(firmware.diagnostics.isEmpty, "\(firmware.diagnostics.map { $0.rendered() })")
        let bytes = try [UInt8](Data(contentsOf: packageRoot.appendingPathComponent("Fixtures/dumps/example.raw")))
        let host = BufferMemory([(physicalStart: 0, bytes: bytes)])
        let automata = Self.shipped()

        final class Console: @unchecked Sendable { var bytes: [UInt8] = []; var frames: [[UInt8]] = [] }
        let console = Console()
        let soc = try SoC(firmware: try ELF32File(parsing: try #require(firmware.program).elf()), host: host,
                          console: { console.bytes.append($0) }, frames: { console.frames.append($0) })
        try soc.installAutomata(automata.map(\.image))
        #expect(soc.run(budget: 500_000_000) == .shutdown)
        let text = String(decoding: console.bytes, as: UTF8.self)
        let lines = text.split(separator: "\r\n").map(String.init)
        #expect(lines.first == "ERIC firmware 1.0: integrity checker")
        #expect(lines.contains("automata loaded: 0x\(String(format: "%08x", automata.count))"))
        var fromFirmware: Set<Finding> = []
        for line in lines where line.hasPrefix("ALERT ") {
            let fields = line.split(separator: " ")        // ALERT page 0x.. automaton 0x.. value 0x..
            fromFirmware.insert(Finding(page: UInt64(fields[2].dropFirst(2), radix: 16)!, automaton: Int(fields[4].dropFirst(2), radix: 16)!,
                                        value: UInt64(fields[6].dropFirst(2), radix: 16)!))
        }
        final class Collected: @unchecked Sendable { var findings: Set<Finding> = []; var all: [MPUSim.Finding] = [] }
        let direct = Collected()
        let statistics = Scanner(automata: automata, options: ScanOptions(jobs: 1)).run(host) { event in
            if case .finding(let finding) = event {
                direct.findings.insert(Finding(page: finding.pageAddress, automaton: finding.automaton, value: finding.value))
                direct.all.append(finding)
            }
        }

        // On the wire: one frame per alert, then the summary, each with good IPv4 and UDP
        // checksums (UDPFrame checks them; the MAC sent only frames whose FCS was right).
        #expect(soc.ethernet.transmitErrors.isEmpty, "\(soc.ethernet.transmitErrors)")
        let records = try console.frames.map { frame -> AlertRecord in
            #expect(Array(frame[0..<6]) == UDPFrame.broadcastMAC && Array(frame[6..<12]) == UDPFrame.deviceMAC)
            let udp = try UDPFrame(frame: frame)
            #expect(udp.sourceIP == UDPFrame.deviceIP && udp.destinationIP == UDPFrame.collectorIP)
            #expect(udp.sourcePort == AlertRecord.port && udp.destinationPort == AlertRecord.port)
            return try AlertRecord(payload: udp.payload)
        }
        #expect(records.map(\.sequence) == (0..<UInt32(records.count)).map { $0 })
        let alertRecords = records.filter { $0.kind == .alert }
        #expect(alertRecords.count == direct.all.count && records.last?.kind == .summary)
        for finding in direct.all {
            let names = automata[finding.automaton].metadata.alerts.map(\.value)
            let expected = (page: finding.pageAddress, automaton: UInt16(finding.automaton), value: finding.value, cycle: finding.cycle,
                            name: names.firstIndex(of: finding.value).map(UInt16.init) ?? 0xffff)
            #expect(alertRecords.contains { $0.page == expected.page && $0.automaton == expected.automaton && $0.value == expected.value
                && $0.mpuCycles == expected.cycle && $0.nameID == expected.name }, "no record for \(finding)")
        }
        let times = records.map(\.time)
        #expect(times == times.sorted() && times.first! > 0)
        let summaryRecord = try #require(records.last)
        #expect(summaryRecord.value == UInt64(alertRecords.count) && summaryRecord.page == statistics.pages)
        #expect(summaryRecord.automaton == 0xffff && summaryRecord.nameID == 0xffff)   // docs/protocol.md
        #expect(summaryRecord.runs == UInt32(statistics.pages) * UInt32(automata.count) && summaryRecord.faults == 0)
        #expect(summaryRecord.mpuCycles == statistics.fetchCycles + statistics.perAutomaton.reduce(0) { $0 + $1.cycles })
        #expect(!direct.findings.isEmpty)
        #expect(fromFirmware == direct.findings, "only firmware: \(fromFirmware.subtracting(direct.findings)); only direct: \(direct.findings.subtracting(fromFirmware))")
        let pages = statistics.pages
        let summary = try #require(lines.last)
        #expect(summary.hasPrefix("done: pages 0x\(String(format: "%08x", pages)) runs 0x\(String(format: "%08x", pages * UInt64(automata.count)))"), "\(summary)")
        #expect(summary.contains("alerts 0x\(String(format: "%08x", lines.count { $0.hasPrefix("ALERT ") }))"))
        #expect(lines.count { $0.hasPrefix("ALERT ") } == direct.all.count)
    }

    /// Alerts in a burst: the firmware waits for each frame to leave before the next one, counts
    /// the waits in its summary, and every alert still reaches the wire.
    @Test func burstsOfAlertsWaitForTheWireAndAreAllSent() throws {
        let firmware = LM32Assembler.assemble(path: packageRoot.appendingPathComponent("firmware/eric.S").path)
        let burst = try #require(MPUAssembler.assemble(source: (1...8).map { "    intb $\($0)" }.joined(separator: "\n") + "\n    intq r0\n").image)
        let host = BufferMemory([(physicalStart: 0, bytes: [UInt8](repeating: 0, count: 3 * 4096))])
        final class Sink: @unchecked Sendable { var console: [UInt8] = []; var frames: [[UInt8]] = [] }
        let sink = Sink()
        let soc = try SoC(firmware: try ELF32File(parsing: try #require(firmware.program).elf()), host: host,
                          console: { sink.console.append($0) }, frames: { sink.frames.append($0) })
        try soc.installAutomata([burst])
        #expect(soc.run(budget: 10_000_000) == .shutdown)
        #expect(sink.frames.count == 3 * 8 + 1 && soc.ethernet.transmitErrors.isEmpty)
        let values = try sink.frames.dropLast().map { try AlertRecord(payload: UDPFrame(frame: $0).payload).value }
        #expect(values == (0..<3).flatMap { _ in (1...8).map(UInt64.init) })
        let summary = String(decoding: sink.console, as: UTF8.self).split(separator: "\r\n").last ?? ""
        #expect(summary.contains("alerts 0x00000018") && !summary.hasSuffix("tx-waits 0x00000000"), "\(summary)")
    }
}
