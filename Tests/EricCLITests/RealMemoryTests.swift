import Foundation
import Testing
import TestSupport

/// `eric scan` on real memory: the lab's dumps (scripts/lab/make.sh: Linux guests booted under
/// QEMU, a KVM host under Bochs), against what the emulators' CPU state says they hold
/// (scripts/lab/expect.py writes it from the registers and VMX pointers, walking the page tables
/// they name). Any missed structure, and any EPT, VMCS, VMXON, root or IDT finding on another
/// page, fails. scripts/test.sh makes the lab and sets ERIC_LAB (ERIC_REQUIRE_LAB=1 makes its
/// absence a failure, as in CI).
@Suite(.serialized) struct RealMemoryTests {
    struct Expected: Decodable {
        struct Structure: Decodable {
            let kind: String
            let page: String
            let level: Int?
            let required: Bool?
        }
        let lab: String
        let dump: String
        let format: String
        let structures: [Structure]
    }

    struct Scanned: Decodable {
        let type: String
        let page: UInt64?
        let name: String?
        let structure: String?
        let level: Int?
        let evidence: String?
    }

    static let lab: [String: Expected]? = {
        guard let folder = ProcessInfo.processInfo.environment["ERIC_LAB"],
              let data = FileManager.default.contents(atPath: folder + "/expected.json") else { return nil }
        return try? JSONDecoder().decode([String: Expected].self, from: data)
    }()

    static var dumps: [String] { (lab ?? [:]).keys.sorted() }

    @Test func labIsThere() {
        if ProcessInfo.processInfo.environment["ERIC_REQUIRE_LAB"] == "1" {
            #expect(Self.lab != nil, "ERIC_LAB=\(ProcessInfo.processInfo.environment["ERIC_LAB"] ?? "unset") has no readable expected.json")
            // Both labs, every format of the Linux guests.
            let kinds = Set((Self.lab ?? [:]).values.map { "\($0.lab)/\($0.format)" })
            #expect(kinds.isSuperset(of: ["linux/raw", "linux/lime", "linux/elf", "linux/kdump", "kvm/raw"]), "\(kinds)")
            // The host with one VM, with two, with one live and one destroyed, and with guest RAM
            // in 2 MiB pages (make.sh kinds kvm, kvm2, kvm-stale, kvm-huge).
            let hosts = Set((Self.lab ?? [:]).values.filter { $0.lab == "kvm" }.map(\.dump))
            #expect(hosts.isSuperset(of: ["vmxdump", "vmxdump-kvm2", "vmxdump-kvm-stale", "vmxdump-kvm-huge"]), "\(hosts)")
            // Idle guests, a busy one with page-table isolation, one with 5-level paging
            // (make-dump.sh's busy and la57 configs).
            let guests = Set((Self.lab ?? [:]).values.filter { $0.lab == "linux" }.map(\.dump))
            #expect(guests.isSuperset(of: ["guest-256M-2cpu", "guest-512M-4cpu", "guest-256M-2cpu-busy", "guest-256M-2cpu-la57"]), "\(guests)")
        }
    }

    @Test(arguments: dumps) func everyStructureFoundAndNothingElse(path: String) throws {
        let expected = try #require(Self.lab?[path])
        let run = try Run("eric", ["scan", "--json", path])
        #expect(run.status == 1, "\(path): exit \(run.status): \(run.stderr)")
        let records = run.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(Scanned.self, from: Data($0.utf8)) }
        let findings = records.filter { $0.type == "finding" }
        #expect(records.last?.type == "summary")
        for kind in ["idt", "pml4", "vmcs", "vmxon", "ept"] {
            let want = expected.structures.filter { $0.kind == kind }
            let pages = Dictionary(want.map { (UInt64($0.page.dropFirst(2), radix: 16)!, $0) }, uniquingKeysWith: { a, _ in a })
            let got = findings.filter { $0.structure == kind }
            for finding in got {
                let page = try #require(finding.page)
                let match = pages[page]
                #expect(match != nil, "\(expected.dump).\(expected.format): false \(kind) finding at 0x\(String(page, radix: 16)) (\(finding.name ?? "")): \(finding.evidence ?? "")")
                if let level = match?.level {
                    #expect(finding.level == level, "\(expected.dump): EPT table 0x\(String(page, radix: 16)) at level \(finding.level ?? 0), not \(level)")
                }
            }
            let foundPages = Set(got.compactMap(\.page))
            for (page, structure) in pages where structure.required ?? true {
                #expect(foundPages.contains(page), "\(expected.dump).\(expected.format): missed \(kind) at 0x\(String(page, radix: 16))")
            }
        }
    }

    /// The board finds what the direct scan finds: `--soc`, where the checker makes the
    /// follow-up runs and the correlation reads them back from the firmware's records, gives
    /// the same findings and candidates, evidence included, on every raw dump of the lab.
    @Test(arguments: dumps.filter { $0.hasSuffix(".raw") }) func socFindsWhatTheDirectScanFinds(path: String) throws {
        func reports(_ arguments: [String]) throws -> [String] {
            let run = try Run("eric", arguments + ["--json", "--candidates", path])
            #expect(run.status == 1, "\(path): \(arguments): exit \(run.status): \(run.stderr)")
            return run.stdout.split(separator: "\n").compactMap { line -> String? in
                guard let record = try? JSONDecoder().decode(Scanned.self, from: Data(line.utf8)),
                      record.type == "finding" || record.type == "candidate" else { return nil }
                return "\(record.type) \(record.page ?? 0) \(record.name ?? "") \(record.level ?? 0) \(record.evidence ?? "")"
            }
        }
        let direct = try reports(["scan"]), board = try reports(["scan", "--soc"])
        #expect(!direct.isEmpty)
        #expect(direct == board, "\(path): the direct scan and --soc differ")
    }

    /// The same findings from the raw, LiME and ELF files of one Linux guest.
    @Test func formatsAgree() throws {
        let byDump = Dictionary(grouping: Self.dumps, by: { Self.lab![$0]!.dump })
        for (dump, paths) in byDump where paths.count > 1 {
            var seen: [String: [String]] = [:]
            for path in paths {
                let run = try Run("eric", ["scan", "--json", path])
                seen[path] = run.stdout.split(separator: "\n").compactMap { line -> String? in
                    guard let record = try? JSONDecoder().decode(Scanned.self, from: Data(line.utf8)), record.type == "finding" else { return nil }
                    return "\(record.page ?? 0) \(record.name ?? "") \(record.level ?? 0)"
                }
            }
            let distinct = Set(seen.values)
            #expect(distinct.count == 1, "\(dump): formats disagree: \(seen)")
        }
    }
}
