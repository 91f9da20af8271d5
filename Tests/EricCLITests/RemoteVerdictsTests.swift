import AlertProtocol
import Capture
import Foundation
import Testing
import TestSupport

/// Verdicts from the wire (docs/integrity.md, "From the wire"): a board sweeps each moment of
/// the lab's real series (`eric run --control --key`, the set pushed sealed), `eric listen
/// --key --board` turns its records and the evidence it reads into a state, and the verdicts
/// must be exactly those `eric check` gives on the dump of the same moment: the same lines,
/// the same exit status, and the same state written back, byte for byte.
@Suite(.serialized) struct RemoteVerdictsTests {
    struct Board {
        let key: String
        let bundle: String
        let directory: URL
    }

    static func board(in directory: URL) throws -> Board {
        let key = directory.appendingPathComponent("board.key").path
        let bundle = directory.appendingPathComponent("set.bundle").path
        #expect(try Run("eric", ["keygen", "-o", key]).status == 0)
        #expect(try Run("eric", ["seal", "--key", key, "--version", "1", "-o", bundle]).status == 0)
        return Board(key: key, bundle: bundle, directory: directory)
    }

    /// A free UDP port on loopback (the board's control port must be known before it starts,
    /// since the listener asks it for evidence).
    static func freePort() throws -> Int {
        Int(try UDPSocket(listeningOn: "127.0.0.1", port: 0).port)
    }

    /// One sweep of `dump` by a board, listened to with `listen` (more arguments of eric
    /// listen): its status, what it printed and its errors.
    static func sweep(_ dump: String, board: Board, listen: [String], key: String? = nil, run: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        let controlPort = try freePort()
        let control = "udp://127.0.0.1:\(controlPort)"
        let printed = board.directory.appendingPathComponent("listen.out")
        FileManager.default.createFile(atPath: printed.path, contents: nil)
        let listener = try Server("eric", ["listen", "udp://127.0.0.1:0", "--key", key ?? board.key, "--board", control] + listen,
                                  standardOutput: try FileHandle(forWritingTo: printed))
        defer { if listener.process.isRunning { kill(listener.process.processIdentifier, SIGKILL) } }
        let device = try Server("eric", ["run", "--control", control, "--key", board.key, "--serial", "file:/dev/null"] + run + [
                                         "--alerts", "udp://127.0.0.1:\(try #require(listener.port))", dump])
        defer { if device.process.isRunning { kill(device.process.processIdentifier, SIGKILL) } }
        let pushed = try Run("eric", ["push", board.bundle, control, "--start"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        listener.process.waitUntilExit()
        _ = try Run("eric", ["push", control, "--shutdown"])
        device.process.waitUntilExit()
        let errors = String(decoding: listener.errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (listener.process.terminationStatus, try String(contentsOf: printed, encoding: .utf8), listener.announcement + errors)
    }

    /// The verdict and summary lines of `eric check --json` output (records aside), the
    /// summary's "dump" (a file, or the board's address) and "baseline" (each chain has its own) left out.
    static func verdicts(_ output: String) -> [String] {
        output.split(separator: "\n").compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let type = object["type"] as? String, type == "verdict" || (type == "summary" && object["baseline"] != nil) else { return nil }
            var kept = object
            kept["dump"] = nil
            kept["baseline"] = nil
            return String(decoding: try! JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]), as: UTF8.self)
        }
    }

    @Test func theWireGivesTheVerdictsOfTheDumpsAtEveryStepOfTheSeries() throws {
        guard let series = IntegritySeriesTests.series else { return }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let board = try Self.board(in: directory)
        let fromDumps = directory.appendingPathComponent("dumps.state").path
        let fromWire = directory.appendingPathComponent("wire.state").path
        let first = try #require(IntegritySeriesTests.path(series.steps[0].baseline))
        #expect(try Run("eric", ["baseline", first, "-o", fromDumps]).status == 0)
        // The first state from the wire too: the same bytes as eric baseline's.
        let recorded = try Self.sweep(first, board: board, listen: ["--write-state", fromWire])
        #expect(recorded.status == 0 && recorded.stderr.contains("state written to"), "\(recorded.stderr)")
        #expect(FileManager.default.contents(atPath: fromWire) == FileManager.default.contents(atPath: fromDumps))
        var confirmed = 0
        defer { #expect(confirmed > 0, "no code page was confirmed by its digest") }
        for step in series.steps {
            let dump = try #require(IntegritySeriesTests.path(step.check))
            let checked = try Run("eric", ["check", "--baseline", fromDumps, "--update", "--json", dump])
            let heard = try Self.sweep(dump, board: board, listen: ["--baseline", fromWire, "--update", "--json"])
            let expected = Self.verdicts(checked.stdout)
            #expect(expected.count >= 2 && Self.verdicts(heard.stdout) == expected,
                    "\(step.check): from the wire\n\(Self.verdicts(heard.stdout).joined(separator: "\n"))\nfrom the dump\n\(expected.joined(separator: "\n"))\n\(heard.stderr)")
            #expect(heard.status == checked.status, "\(step.check): exit \(heard.status), the dump's \(checked.status)\n\(heard.stderr)")
            let evidence = try #require(heard.stderr.split(separator: "\n").first { $0.contains("blocks of evidence read from") })
            confirmed += Int(evidence.split(separator: ", ").last!.split(separator: " ").first!) ?? 0
            #expect(FileManager.default.contents(atPath: fromWire) == FileManager.default.contents(atPath: fromDumps), "\(step.check): the states differ")
        }
    }

    /// The evidence as Wireshark shows it (tools/wireshark/eric.lua): every READ answered with
    /// its block, authenticated under the boot nonce of the sweep's records; the MAP answer is
    /// the dump's one range.
    @Test func theCaptureShowsTheEvidence() throws {
        guard let vm2 = IntegritySeriesTests.path("vm2"), FileManager.default.fileExists(atPath: "/usr/bin/tshark") else { return }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let board = try Self.board(in: directory)
        let capture = directory.appendingPathComponent("board.pcap").path
        let state = directory.appendingPathComponent("vm2.state").path
        let heard = try Self.sweep(vm2, board: board, listen: ["--write-state", state], run: ["--pcap", capture])
        #expect(heard.status == 0, "\(heard.stderr)")
        let blocks = try #require(heard.stderr.split(separator: "\n").first { $0.contains("blocks of evidence") }.flatMap { Int($0.split(separator: " ")[1]) })
        func fields(_ filter: String, _ names: [String]) throws -> [[String]] {
            let run = try Run("/usr/bin/tshark", ["-X", "lua_script:" + packageRoot.appendingPathComponent("tools/wireshark/eric.lua").path, "-r", capture,
                                                  "-Y", filter, "-T", "fields"] + names.flatMap { ["-e", $0] })
            return run.stdout.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        }
        let nonces = Set(try fields("eric.boot_nonce", ["eric.boot_nonce"]).map { $0[0] })
        #expect(nonces.count == 1)
        let reads = try fields("eric_control.type == 0x96", ["eric_control.result", "eric_control.boot_nonce", "eric_control.block"])
        #expect(reads.count == blocks && blocks > 200 && reads.allSatisfy { $0[0] == "0" && nonces.contains($0[1]) && $0[2].count == 2048 },
                "\(reads.count) READ answers for \(blocks) blocks")
        let size = try FileManager.default.attributesOfItem(atPath: vm2)[.size] as! UInt64
        let maps = try fields("eric_control.type == 0x97", ["eric_control.result", "eric_control.address", "eric_control.range_end"])
        #expect(maps == [["1", "0x0000000000000000", "0x" + String(repeating: "0", count: 16 - String(size, radix: 16).count) + String(size, radix: 16)]], "\(maps)")
    }

    /// What cannot give a verdict is refused before anything is waited for.
    @Test func badRemoteCheckArgumentsAreRefusedAtOnce() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = directory.appendingPathComponent("host.state").path
        let key = directory.appendingPathComponent("board.key").path
        #expect(try Run("eric", ["baseline", "Fixtures/dumps/example.raw", "-o", state]).status == 0)
        #expect(try Run("eric", ["keygen", "-o", key]).status == 0)
        let badBoard = try Run("eric", ["listen", "udp://127.0.0.1:0", "--key", key, "--board", "nonsense", "--baseline", state])
        #expect(badBoard.status == 2 && badBoard.stderr == "eric: error: --board nonsense: expected udp://HOST:PORT, found 'nonsense'\n", "\(badBoard.stderr)")
        let capture = try Run("eric", ["listen", "alerts.pcap", "--key", key, "--board", "udp://127.0.0.1:17747", "--baseline", state])
        #expect(capture.status == 2 && capture.stderr.contains("a capture holds no evidence to ask for"), "\(capture.stderr)")
        let noBoard = try Run("eric", ["listen", "udp://127.0.0.1:0", "--baseline", state])
        #expect(noBoard.stderr.contains("--baseline and --write-state need --board"), "\(noBoard.stderr)")
        let noKey = try Run("eric", ["listen", "udp://127.0.0.1:0", "--board", "udp://127.0.0.1:17747", "--baseline", state])
        #expect(noKey.status == 2 && noKey.stderr.contains("--board needs --key"), "\(noKey.stderr)")
        let missing = try Run("eric", ["listen", "udp://127.0.0.1:0", "--key", key, "--board", "udp://127.0.0.1:17747", "--baseline", state + ".nope"])
        #expect(missing.status == 2 && missing.stderr.hasPrefix(state + ".nope: error: cannot read the state"), "\(missing.stderr)")
    }

    /// `--keep-going`: a verifier that stays up judges every sweep the board makes, each
    /// against the baseline: two sweeps of the same moment, two verdicts `unchanged`.
    @Test func keepGoingJudgesEverySweep() throws {
        guard let vm2 = IntegritySeriesTests.path("vm2") else { return }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let board = try Self.board(in: directory)
        let state = directory.appendingPathComponent("vm2.state").path
        #expect(try Run("eric", ["baseline", vm2, "-o", state]).status == 0)
        let control = "udp://127.0.0.1:\(try Self.freePort())"
        let printed = directory.appendingPathComponent("listen.out")
        FileManager.default.createFile(atPath: printed.path, contents: nil)
        let listener = try Server("eric", ["listen", "udp://127.0.0.1:0", "--key", board.key, "--board", control, "--baseline", state,
                                           "--keep-going", "--json"], standardOutput: try FileHandle(forWritingTo: printed))
        defer { if listener.process.isRunning { kill(listener.process.processIdentifier, SIGKILL) } }
        let device = try Server("eric", ["run", "--control", control, "--key", board.key, "--serial", "file:/dev/null",
                                         "--alerts", "udp://127.0.0.1:\(try #require(listener.port))", vm2])
        defer { if device.process.isRunning { kill(device.process.processIdentifier, SIGKILL) } }
        func judged() -> [String] {
            Self.verdicts((try? String(contentsOf: printed, encoding: .utf8)) ?? "").filter { $0.contains(#""type":"summary""#) }
        }
        for sweep in 1...2 {
            let pushed = try Run("eric", sweep == 1 ? ["push", board.bundle, control, "--start"] : ["push", control, "--start"])
            #expect(pushed.status == 0, "\(pushed.stderr)")
            let deadline = Date().addingTimeInterval(120)
            while judged().count < sweep && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        }
        _ = try Run("eric", ["push", control, "--shutdown"])
        #expect(judged() == [String](repeating: #"{"suspicious":false,"type":"summary","verdict":"unchanged","verdicts":3}"#, count: 2), "\(judged())")
        #expect(listener.process.isRunning)
    }
}
