import Foundation

/// The repository root, found from this file's path.
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs a built executable of this package and captures its output.
public struct Run {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var stdoutBytes: Data

    /// The executables sit beside the test bundle in the build directory.
    public static let binaries = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

    public init(_ tool: String, _ arguments: [String], in directory: URL = packageRoot, environment: [String: String] = [:]) throws {
        let process = Process()
        // A bare name is one of this package's executables; a path is any program.
        process.executableURL = tool.contains("/") ? URL(fileURLWithPath: tool) : Run.binaries.appendingPathComponent(tool)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stderr on another thread while reading stdout, so neither pipe can fill and block the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let done = DispatchSemaphore(value: 0)
        Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); done.signal() }.start()
        stdoutBytes = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        let errData = errBox.data
        process.waitUntilExit()
        status = process.terminationStatus
        stdout = String(decoding: stdoutBytes, as: UTF8.self)
        stderr = String(decoding: errData, as: UTF8.self)
    }
}

/// One folder per test process, removed when the process exits, so that a run of the suite
/// leaves nothing behind in the system's temporary folder (it used to leave ~1,500 folders).
private let testScratchRoot: URL = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("eric-tests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    testScratchRootPath = root.path
    atexit { if let path = testScratchRootPath { try? FileManager.default.removeItem(atPath: path) } }
    return root
}()
nonisolated(unsafe) private var testScratchRootPath: String?

/// A fresh folder for one test, inside the process's scratch root.
public func temporaryDirectory() throws -> URL {
    let url = testScratchRoot.appendingPathComponent(UUID().uuidString)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}


/// The reference lm32-elf tools built by scripts/build-lm32-toolchain.sh (GNU as/ld/objdump,
/// gdb and gdb's simulator), found where the script puts them.
public enum LM32Toolchain {
    /// The `bin` directory, if the tools are built.
    public static let bin: URL? = {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        let prefix = environment["LM32_TOOLCHAIN"].map { URL(fileURLWithPath: $0) } ?? cache.appendingPathComponent("eric/lm32-toolchain")
        let bin = prefix.appendingPathComponent("bin")
        let needed = ["lm32-elf-as", "lm32-elf-ld", "lm32-elf-run", "lm32-elf-gdb"]
        return needed.allSatisfy { FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent($0).path) } ? bin : nil
    }()

    /// scripts/test.sh builds the tools and sets ERIC_REQUIRE_LM32_TOOLCHAIN=1, so tests that
    /// need them fail rather than skip when they are missing there.
    public static var shouldRun: Bool { bin != nil || ProcessInfo.processInfo.environment["ERIC_REQUIRE_LM32_TOOLCHAIN"] == "1" }

    public static func tool(_ name: String) -> String { (bin?.appendingPathComponent(name).path) ?? name }
}

/// One of this package's servers started in the background (`eric run --gdb tcp::0`,
/// `eric listen udp://127.0.0.1:0`): it announces its port on standard error's first line.
public final class Server {
    public let process = Process()
    public let output = Pipe()
    public let errors = Pipe()
    /// The port from the announcement, nil if the server said none.
    public private(set) var port: Int?
    public private(set) var announcement = ""

    /// `standardOutput`: a file for what the tool prints, when it prints more than a pipe holds
    /// before anyone reads it (a tool blocked on a full pipe stops reading its socket).
    public init(_ tool: String, _ arguments: [String], standardOutput: FileHandle? = nil) throws {
        process.executableURL = Run.binaries.appendingPathComponent(tool)
        process.arguments = arguments
        process.standardOutput = standardOutput ?? output
        process.standardError = errors
        try process.run()
        while !announcement.contains("\n") {
            let more = errors.fileHandleForReading.availableData
            if more.isEmpty { break }
            announcement += String(decoding: more, as: UTF8.self)
        }
        port = announcement.split(separator: "\n").first?.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }
    }

    deinit { if process.isRunning { process.terminate() } }
}
