import Foundation
import MPUISA

/// Which engine runs automata during a scan.
public enum Engine: String, Sendable, CaseIterable {
    /// Compiled code when a C compiler is available, else the interpreter.
    case automatic = "auto"
    /// Always the interpreter.
    case interpreter
    /// Compiled code; fails if it cannot be built.
    case compiled
}

/// An automaton compiled to native code (see NativeCode.swift), loaded with dlopen.
final class NativeFunction: @unchecked Sendable {
    typealias Entry = @convention(c) (UnsafeMutablePointer<UInt64>, UnsafeRawPointer) -> Int32
    let handle: UnsafeMutableRawPointer
    let entry: Entry

    init(handle: UnsafeMutableRawPointer, entry: Entry) {
        self.handle = handle
        self.entry = entry
    }

    deinit { dlclose(handle) }
}

public struct NativeCompileError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Builds compiled automata with the system C compiler (`$CC`, else `cc`) and keeps them in
/// a cache directory keyed by a hash of the generated source, so each program is compiled
/// once per machine. The interpreter stays the reference: compiled code yields to it for
/// everything unusual, and traces always use it.
enum NativeTier {
    static let version = "1"

    /// One variable of the environment (getenv: ProcessInfo's dictionary costs more than a
    /// small scan's page checks to build).
    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    static let compiler: String = environment("CC") ?? "cc"

    static var flags: [String] {
        var flags = ["-O2", "-shared", "-fPIC", "-w"]
        #if arch(x86_64)
        flags.append("-mpopcnt") // the same instruction set as the Swift build
        #endif
        return flags
    }

    static var cacheDirectory: String {
        if let directory = environment("ERIC_CACHE_DIR") { return directory + "/native" }
        if let xdg = environment("XDG_CACHE_HOME") { return xdg + "/eric/native" }
        if let home = environment("HOME") { return home + "/.cache/eric/native" }
        return NSTemporaryDirectory() + "eric-\(getuid())/native"
    }

    /// FNV-1a, 64 bits: a stable key for the cache (not a security boundary: the cache is
    /// the user's own directory).
    static func key(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    static func build(_ storage: ProgramStorage) throws(NativeCompileError) -> NativeFunction {
        let source = NativeCode.source(ops: UnsafeBufferPointer(storage.ops), constants: storage.constants,
                                       start: Array(storage.prologueRegisters), startIndex: storage.entry + storage.prologueLength,
                                       skipped: storage.prologueLength)
        let identity = "\(version) \(compiler) \(flags.joined(separator: " "))\n" + source
        let directory = cacheDirectory
        let library = "\(directory)/mpu-\(key(identity)).so"
        if !FileManager.default.fileExists(atPath: library) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw NativeCompileError(description: "cannot create \(directory): \(error.localizedDescription)")
            }
            // Build under a unique name, then rename: concurrent builders never see half a file.
            let unique = "\(directory)/tmp-\(getpid())-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: unique + ".c") }
            do {
                try source.write(toFile: unique + ".c", atomically: false, encoding: .utf8)
            } catch {
                throw NativeCompileError(description: "cannot write \(unique).c: \(error.localizedDescription)")
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [compiler] + flags + ["-o", unique + ".so", unique + ".c"]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            do { try process.run() } catch {
                throw NativeCompileError(description: "cannot run \(compiler): \(error.localizedDescription)")
            }
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                try? FileManager.default.removeItem(atPath: unique + ".so")
                throw NativeCompileError(description: "\(compiler) failed (status \(process.terminationStatus)): \(message.prefix(500))")
            }
            guard rename(unique + ".so", library) == 0 else {
                throw NativeCompileError(description: "cannot move the library into \(directory): \(String(cString: strerror(errno)))")
            }
        }
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            throw NativeCompileError(description: "dlopen \(library): \(String(cString: dlerror()))")
        }
        guard let symbol = dlsym(handle, NativeCode.functionName) else {
            dlclose(handle)
            throw NativeCompileError(description: "\(library) has no \(NativeCode.functionName)")
        }
        return NativeFunction(handle: handle, entry: unsafeBitCast(symbol, to: NativeFunction.Entry.self))
    }
}

extension Automaton {
    /// This automaton's compiled code, built on first use (once per automaton).
    func compiled() throws(NativeCompileError) -> NativeFunction {
        try storage.native()
    }
}

extension ProgramStorage {
    func native() throws(NativeCompileError) -> NativeFunction {
        nativeLock.lock()
        defer { nativeLock.unlock() }
        if let cached = nativeResult {
            switch cached {
            case .success(let function): return function
            case .failure(let error): throw error
            }
        }
        do throws(NativeCompileError) {
            let function = try NativeTier.build(self)
            nativeResult = .success(function)
            return function
        } catch {
            nativeResult = .failure(error)
            throw error
        }
    }
}

extension MPU {
    /// Fills in the fields of a compiled run's state that are the same for every page.
    func prepare(nativeState state: UnsafeMutablePointer<UInt64>) {
        state.update(repeating: 0, count: NativeCode.Layout.size / 8)
        state[20] = timing.watchdogCycles
        state[21] = UInt64(timing.takenJumpPenalty)
        state[22] = 1 + UInt64(timing.mloadWaitCycles)
    }

    /// Runs compiled code over a page; where it yields, the interpreter continues from the
    /// exact state it left. `state` is scratch of `NativeCode.Layout.size` bytes prepared by
    /// `prepare(nativeState:)`.
    @inline(__always)
    func run(_ program: RunnableProgram, native: NativeFunction.Entry, state: UnsafeMutablePointer<UInt64>, page: UnsafeRawPointer,
             pageAddress: UInt64, alerts: inout [Alert]) -> RunResult {
        // The compiled code starts after the prologue, whose registers it has as constants.
        guard UInt64(program.prologueLength) < timing.watchdogCycles, program.entry < program.instructionCount else {
            return interpret(program, page: page, pageAddress: pageAddress, alerts: &alerts)
        }
        state[Int(InstructionSet.pageBaseRegister)] = pageAddress
        let status = native(state, page)
        if state[24] != 0 { collectAlerts(state, into: &alerts) }
        if status == 0 {
            return RunResult(instructions: state[18], cycles: state[17], hostReads: state[19], fault: nil)
        }
        return resume(program, state: state, page: page, alerts: &alerts)
    }

    /// The rare paths, kept out of line so that the common one stays small.
    @inline(never)
    func interpret(_ program: RunnableProgram, page: UnsafeRawPointer, pageAddress: UInt64, alerts: inout [Alert]) -> RunResult {
        var observer = NoObserver()
        return run(program, page: page, pageAddress: pageAddress, alerts: &alerts, observer: &observer)
    }

    /// Continues a run the compiled code yielded, with the interpreter.
    @inline(never)
    func resume(_ program: RunnableProgram, state: UnsafeMutablePointer<UInt64>, page: UnsafeRawPointer, alerts: inout [Alert]) -> RunResult {
        var observer = NoObserver()
        return execute(ops: program.ops, instructionCount: program.instructionCount, entry: Int(state[23]), page: page,
                       registers: state, cycles: state[17], instructions: state[18], hostReads: state[19],
                       alerts: &alerts, observer: &observer)
    }

    @inline(never)
    func collectAlerts(_ state: UnsafeMutablePointer<UInt64>, into alerts: inout [Alert]) {
        let base = NativeCode.Layout.alerts / 8
        for index in 0..<Int(state[24]) {
            alerts.append(Alert(value: state[base + 3 * index], pc: Int(state[base + 3 * index + 1]) * 8, cycle: state[base + 3 * index + 2]))
        }
    }
}
