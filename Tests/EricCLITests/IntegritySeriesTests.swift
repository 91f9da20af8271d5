import Foundation
import Testing
import TestSupport

/// `eric baseline` and `eric check` on the lab's real time series (scripts/lab/make.sh
/// kvm-series: one boot of a KVM host under Bochs dumped at eight moments). series.json says
/// what each step did and the verdicts it must get, from what the series did, not from eric:
/// the check with the previous moment's state (the operator's `--update` chain) must give
/// exactly those, and exit 1 exactly when one is suspicious.
@Suite(.serialized) struct IntegritySeriesTests {
    struct Series: Decodable {
        struct Snapshot: Decodable { let name: String; let file: String }
        struct Step: Decodable { let baseline: String; let check: String; let what: String; let hypervisor: String; let vms: [String: Int] }
        struct Patch: Decodable { let physical: String; let host_rip: String }
        let snapshots: [Snapshot]
        let steps: [Step]
        let patch: Patch?
    }

    struct Line: Decodable {
        let type: String
        let subject: String?
        let verdict: String
        let evidence: [String]?
    }

    static let folder = ProcessInfo.processInfo.environment["ERIC_LAB"].map { $0 + "/kvm-series" }
    static let series: Series? = folder.flatMap { FileManager.default.contents(atPath: $0 + "/series.json") }
        .flatMap { try? JSONDecoder().decode(Series.self, from: $0) }

    static func path(_ name: String) -> String? {
        series?.snapshots.first { $0.name == name }.map { folder! + "/" + $0.file }
    }

    @Test func seriesIsThere() {
        if ProcessInfo.processInfo.environment["ERIC_REQUIRE_LAB"] == "1" {
            #expect(Self.series?.steps.count == 7, "no series.json in \(Self.folder ?? "$ERIC_LAB unset")/ (scripts/lab/make.sh kvm-series)")
        }
    }

    static let suspicious: Set<String> = ["modified", "relocated", "disabled", "new-hypervisor"]

    @Test func everyStepGetsItsVerdictsAndNoOther() throws {
        guard let series = Self.series else { return }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = directory.appendingPathComponent("host.state").path
        let first = try #require(Self.path(series.steps[0].baseline))
        let made = try Run("eric", ["baseline", first, "-o", state])
        #expect(made.status == 0 && made.stdout.contains("no hypervisor"), "\(made.stdout)\(made.stderr)")
        for step in series.steps {
            let dump = try #require(Self.path(step.check))
            let run = try Run("eric", ["check", "--baseline", state, "--update", "--json", dump])
            let lines = run.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
            let verdicts = lines.filter { $0.type == "verdict" }
            let hypervisor = verdicts.filter { $0.subject == "hypervisor" }.map(\.verdict)
            let vms = Dictionary(grouping: verdicts.filter { $0.subject == "vm" }, by: \.verdict).mapValues(\.count)
            #expect(hypervisor == [step.hypervisor] && vms == step.vms,
                    "\(step.baseline) -> \(step.check) (\(step.what)): \(hypervisor) \(vms)\n\(run.stdout)\(run.stderr)")
            let expectedStatus: Int32 = Self.suspicious.contains(step.hypervisor) ? 1 : 0
            #expect(run.status == expectedStatus, "\(step.check): exit \(run.status)")
            #expect(lines.last?.type == "summary")
        }
    }

    /// The hook at HOST_RIP against a state with both VMs running: located to the byte.
    @Test func theHookIsLocated() throws {
        guard let series = Self.series, let patch = series.patch, let vm2 = Self.path("vm2"), let patched = Self.path("patched") else { return }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = directory.appendingPathComponent("vm2.state").path
        #expect(try Run("eric", ["baseline", vm2, "-o", state]).status == 0)
        let run = try Run("eric", ["check", "--baseline", state, patched])
        #expect(run.status == 1)
        #expect(run.stdout.hasPrefix("modified        hypervisor\n"), "\(run.stdout)")
        #expect(run.stdout.contains("code \(patch.host_rip) (physical \(patch.physical)), 5 bytes: ") && run.stdout.contains(" -> ") && run.stdout.contains("e9 fb 00 00 00"), "\(run.stdout)")
        #expect(run.stdout.hasSuffix("overall: modified (suspicious: modified)\n"))
        // The same moment checked against itself: unchanged, exit 0.
        let same = try Run("eric", ["check", "--baseline", state, vm2])
        #expect(same.status == 0 && same.stdout.hasPrefix("unchanged       hypervisor"), "\(same.stdout)")
    }
}

/// Bad state files: a located one-line error and exit 2, never a verdict.
@Suite struct StateFileTests {
    @Test func badStatesAreErrors() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dump = packageRoot.appendingPathComponent("Fixtures/dumps/example.raw").path
        let state = directory.appendingPathComponent("good.state").path
        let made = try Run("eric", ["baseline", dump, "-o", state])
        #expect(made.status == 0, "\(made.stderr)")
        let good = try Data(contentsOf: URL(fileURLWithPath: state))
        let cases: [(String, Data, String)] = [
            ("truncated", good.prefix(good.count / 2), "error: not a readable state file: "),
            ("version", Data(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 7").utf8),
             "error: state format version 7; this eric reads version 1"),
            ("other", Data("{\"hello\": 1}".utf8), "error: not an eric host state (no \"format\": \"eric-host-state\")"),
        ]
        for (name, bytes, message) in cases {
            let path = directory.appendingPathComponent(name + ".state").path
            try bytes.write(to: URL(fileURLWithPath: path))
            let run = try Run("eric", ["check", "--baseline", path, dump])
            #expect(run.status == 2 && run.stdout.isEmpty, "\(name): \(run.status) \(run.stdout)")
            #expect(run.stderr.hasPrefix("\(path): \(message)") && run.stderr.split(separator: "\n").count == 1, "\(name): \(run.stderr)")
        }
        // Another host: the example dump's state against a dump with another memory map.
        let other = directory.appendingPathComponent("other.raw").path
        try Data(count: 0x20000).write(to: URL(fileURLWithPath: other))
        let run = try Run("eric", ["check", "--baseline", state, other])
        #expect(run.status == 2 && run.stderr.contains("error: the state is of another host: its memory map has 1 ranges (0x0+0x140000), this dump's 1 (0x0+0x20000)"), "\(run.stderr)")
        // The example itself: no hypervisor of its own... whatever it holds, checked against
        // its own state it is unchanged or has none, and nothing is suspicious.
        let same = try Run("eric", ["check", "--baseline", state, dump])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
    }
}
