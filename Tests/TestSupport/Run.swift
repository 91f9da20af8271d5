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
        process.executableURL = Run.binaries.appendingPathComponent(tool)
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

public func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mpuas-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

