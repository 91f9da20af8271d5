/// Why the target stopped, as a stop reply tells GDB.
public enum StopReason: Equatable, Sendable {
    /// A breakpoint, a finished single step, or a halt at reset: SIGTRAP.
    case trap
    /// An instruction the CPU cannot execute: SIGILL.
    case illegalInstruction
    /// Ctrl-C from the debugger: SIGINT.
    case interrupted
    /// An access to no device (SIGSEGV) or a misaligned one (SIGBUS), as gdb's simulator stops.
    case busError(misaligned: Bool)
    /// The program exited (host calls) with this status: `W` reply.
    case exited(UInt8)

    /// The stop-reply packet ("Stop Reply Packets" in the GDB manual).
    public var reply: String {
        switch self {
        case .trap: return "S05"
        case .illegalInstruction: return "S04"
        case .interrupted: return "S02"
        case .busError(let misaligned): return misaligned ? "S0a" : "S0b"
        case .exited(let status): return "W" + hexString([status])
        }
    }
}

/// What a debugger may do to a simulated machine. Addresses are the target's; register
/// numbers and byte layouts are GDB's for the architecture.
public protocol DebugTarget: AnyObject {
    /// All registers as the `g` packet carries them, in target byte order.
    func readRegisters() -> [UInt8]
    func writeRegisters(_ bytes: [UInt8]) -> Bool
    func readRegister(_ number: Int) -> [UInt8]?
    func writeRegister(_ number: Int, _ bytes: [UInt8]) -> Bool
    /// Memory as the program would see it (software breakpoints hidden); nil if unmapped.
    func readMemory(_ address: UInt64, count: Int) -> [UInt8]?
    func writeMemory(_ address: UInt64, _ bytes: [UInt8]) -> Bool
    func insertBreakpoint(_ address: UInt64) -> Bool
    func removeBreakpoint(_ address: UInt64) -> Bool
    func setPC(_ address: UInt64)
    /// Executes one instruction.
    func step() -> StopReason
    /// Runs up to `budget` instructions; nil if the program is still running after them.
    func resume(budget: UInt64) -> StopReason?
}

/// What the server must do after a packet.
public enum SessionAction: Equatable, Sendable {
    case reply(String)
    case step
    case resume
    /// Reply OK, then let the program run on without the debugger.
    case detach
    case kill
}

/// The command layer: one packet in, one action out. Malformed packets get `E01`; packets
/// this stub does not implement get the empty reply, which tells GDB so.
public final class GDBSession {
    public let target: DebugTarget
    /// The last stop, for `?`.
    public var lastStop: StopReason
    /// Largest `m` read served at once (GDB splits longer reads by PacketSize).
    public let packetSize = 0x4000

    public init(target: DebugTarget, initialStop: StopReason = .trap) {
        self.target = target
        lastStop = initialStop
    }

    public func handle(_ payload: [UInt8]) -> SessionAction {
        guard let first = payload.first else { return .reply("") }
        let text = String(decoding: payload, as: UTF8.self)
        let body = text.dropFirst()
        switch first {
        case UInt8(ascii: "?"): return .reply(lastStop.reply)
        case UInt8(ascii: "g"): return .reply(hexString(target.readRegisters()))
        case UInt8(ascii: "G"):
            guard let bytes = bytes(fromHex: body), target.writeRegisters(bytes) else { return .reply("E01") }
            return .reply("OK")
        case UInt8(ascii: "p"):
            guard let number = Int(body, radix: 16), let bytes = target.readRegister(number) else { return .reply("E01") }
            return .reply(hexString(bytes))
        case UInt8(ascii: "P"):
            let parts = body.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let number = Int(parts[0], radix: 16), let bytes = bytes(fromHex: parts[1]),
                  target.writeRegister(number, bytes) else { return .reply("E01") }
            return .reply("OK")
        case UInt8(ascii: "m"):
            guard let (address, count) = addressAndLength(body), count <= packetSize,
                  let bytes = target.readMemory(address, count: count) else { return .reply("E01") }
            return .reply(hexString(bytes))
        case UInt8(ascii: "M"):
            let parts = body.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let (address, count) = addressAndLength(parts[0]), let bytes = bytes(fromHex: parts[1]),
                  bytes.count == count, target.writeMemory(address, bytes) else { return .reply("E01") }
            return .reply("OK")
        case UInt8(ascii: "X"):
            // Binary data follows the first ':' of the raw (unescaped) payload.
            guard let colon = payload.firstIndex(of: UInt8(ascii: ":")),
                  let (address, count) = addressAndLength(Substring(String(decoding: payload[1..<colon], as: UTF8.self))) else { return .reply("E01") }
            let data = Array(payload[(colon + 1)...])
            guard data.count == count, target.writeMemory(address, data) else { return .reply("E01") }
            return .reply("OK")
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            let parts = body.split(separator: ",")
            guard parts.count == 3, let type = Int(parts[0]), let address = UInt64(parts[1], radix: 16), Int(parts[2], radix: 16) != nil else {
                return .reply("E01")
            }
            guard type == 0 else { return .reply("") }         // hardware break/watchpoints: not offered
            let done = first == UInt8(ascii: "Z") ? target.insertBreakpoint(address) : target.removeBreakpoint(address)
            return .reply(done ? "OK" : "E01")
        case UInt8(ascii: "s"), UInt8(ascii: "c"):
            if !body.isEmpty {
                guard let address = UInt64(body, radix: 16) else { return .reply("E01") }
                target.setPC(address)
            }
            return first == UInt8(ascii: "s") ? .step : .resume
        case UInt8(ascii: "D"): return .detach
        case UInt8(ascii: "k"): return .kill
        case UInt8(ascii: "H"): return .reply("OK")             // one thread: any selection is it
        case UInt8(ascii: "T"): return .reply("OK")             // thread 1 is alive
        case UInt8(ascii: "q"):
            if text.hasPrefix("qSupported") { return .reply("PacketSize=\(String(packetSize, radix: 16))") }
            if text == "qAttached" { return .reply("1") }
            if text == "qC" { return .reply("QC1") }
            if text == "qfThreadInfo" { return .reply("m1") }
            if text == "qsThreadInfo" { return .reply("l") }
            if text.hasPrefix("qSymbol") { return .reply("OK") }
            return .reply("")
        default:
            return .reply("")
        }
    }

    /// `addr,length` in hex.
    func addressAndLength(_ text: Substring) -> (UInt64, Int)? {
        let parts = text.split(separator: ",")
        guard parts.count == 2, let address = UInt64(parts[0], radix: 16), let count = Int(parts[1], radix: 16), count >= 0 else { return nil }
        return (address, count)
    }
}
