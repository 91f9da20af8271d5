import AlertProtocol
import ArgumentParser
import AsmKit
import CLISupport
import Capture
import Sealing
import Verifier

struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Load a sealed bundle into a board over its control channel, and start or stop it (docs/protocol.md).",
        discussion: """
            Sends the bundle (eric seal) in LOAD messages, each answered before the next, then COMMIT: \
            the board installs it whole or refuses it and keeps the set in place (docs/security.md). \
            --start then starts a sweep, whose records go where the board sends alerts (eric listen); \
            --shutdown powers the board off. Without a bundle, only those. A message unanswered is \
            sent again, up to --tries times.

            Exit status: 0 done (the bundle installed), 1 the board refused the bundle, 2 an error \
            (bad input, no answer).

            Example: eric push set7.bundle udp://127.0.0.1:17747 --start
            """)

    @Argument(help: ArgumentHelp("[BUNDLE] URL: the bundle to load (optional), then the board's control address (udp://HOST:PORT).", valueName: "bundle-and-url"))
    var arguments: [String]

    @Option(help: ArgumentHelp("The board's device key file: the bundle is checked against it (sealed for it, authentic) before anything is sent.", valueName: "file"))
    var key: String?

    @Flag(help: "Start a sweep (after installing the bundle, if one is given).")
    var start = false

    @Option(help: ArgumentHelp("Set how the MPU reaches host memory for the next sweeps: page (the page DMAed into a buffer) or word (a PCIe read per load); the slides' \"execution mode\".", valueName: "mode"))
    var hostAccess: String?

    @Flag(help: "Power the board off at the end.")
    var shutdown = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Milliseconds to wait for each answer.", valueName: "ms"))
    var timeout: Int32 = 2000

    @Option(parsing: .unconditional, help: ArgumentHelp("Times a message is sent before the board is called unreachable.", valueName: "n"))
    var tries: Int = 3

    func validate() throws {
        guard (1...2).contains(arguments.count) else { throw ValidationError("give the board's control address (udp://HOST:PORT), after the bundle if there is one") }
        guard timeout > 0, tries > 0 else { throw ValidationError("--timeout and --tries must be positive") }
        if let hostAccess, !["page", "word"].contains(hostAccess) { throw ValidationError("--host-access must be page or word, not '\(hostAccess)'") }
    }

    func run() throws {
        let url = arguments.last!
        let link: BoardLink
        do { link = try BoardLink(url: url, timeout: timeout, tries: tries) } catch { Console.fail("eric: error: \(error)", code: 2) }
        var reported = 0
        /// One message, answered: sent again on silence; answers to other messages are skipped.
        func exchange(_ kind: ControlMessage.Kind, argument: UInt32 = 0, data: [UInt8] = []) -> ControlReply {
            defer { for problem in link.ignored.dropFirst(reported) { Console.error("eric: warning: \(url): \(problem), ignored") }; reported = link.ignored.count }
            do { return try link.control(kind, argument: argument, data: data) } catch { Console.fail("eric: error: \(error)", code: 2) }
        }

        var status: Int32 = 0
        if arguments.count == 2 {
            let path = arguments[0]
            let bytes: [UInt8]
            switch readFile(path, limit: SealedBundle.maximumSize) {
            case .success(let read): bytes = read
            case .failure(let reason): Console.fail("\(path): error: cannot read the bundle: \(reason)", code: 2)
            }
            guard bytes.starts(with: SealedBundle.magic) else {
                Console.fail("\(path): error: at byte 0: not a sealed bundle (no \"ERICSEAL\"; make one with eric seal)", code: 2)
            }
            // With the key, a bundle the board would refuse for its key or its tag is not sent.
            if let key {
                do {
                    _ = try SealedBundle(bytes: bytes).open(key: loadDeviceKey(key), loadedVersion: 0)
                } catch {
                    Console.fail("\(path): error: \(error.description) (checked with \(key); nothing sent)", code: 2)
                }
            }
            // Whole words: the board's buffer takes 32-bit words; COMMIT says the real length.
            let padded = bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
            for offset in stride(from: 0, to: padded.count, by: ControlMessage.maximumData) {
                let chunk = Array(padded[offset..<min(padded.count, offset + ControlMessage.maximumData)])
                let reply = exchange(.load, argument: UInt32(offset), data: chunk)
                guard reply.result == UInt32(offset + chunk.count) else {
                    Console.fail("eric: error: \(url): the board took the bytes at \(offset) to \(reply.result), expected \(offset + chunk.count)", code: 2)
                }
            }
            let reply = exchange(.commit, argument: UInt32(bytes.count))
            if reply.result == 0 {
                Console.write("\(path): installed: set version \(reply.setVersion)\n")
            } else {
                Console.write("\(path): refused: \(SealedBundle.Refusal.describe(code: reply.result)); the board keeps set version \(reply.setVersion)\n")
                status = 1
            }
        }
        if let hostAccess, status == 0 {
            let reply = exchange(.mode, argument: hostAccess == "word" ? 1 : 0)
            guard reply.result == (hostAccess == "word" ? 1 : 0) else {
                Console.fail("eric: error: \(url): the board did not take host access \(hostAccess) (answer \(reply.result))", code: 2)
            }
            Console.write("host access: \(hostAccess)\n")
        }
        if start && status == 0 {
            _ = exchange(.start)
            Console.write("sweep started\n")
        }
        if shutdown {
            _ = exchange(.shutdown)
            Console.write("board powered off\n")
        }
        if arguments.count == 1 && !start && !shutdown && hostAccess == nil {
            Console.write("set version \(exchange(.status).setVersion)\n")
        }
        throw ExitCode(status)
    }
}
