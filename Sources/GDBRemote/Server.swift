import Sockets
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A byte stream to the debugger.
public protocol RemoteTransport: AnyObject {
    /// The next bytes, waiting for them; empty at end of stream.
    func read() -> [UInt8]
    /// Bytes already waiting, without blocking (to notice Ctrl-C while the target runs).
    func readIfReady() -> [UInt8]
    func write(_ bytes: [UInt8])
}

/// How a debugging session ended.
public enum SessionEnd: Equatable, Sendable {
    /// `D`: the debugger left; the program should run on.
    case detached
    /// `k`, or the connection closed.
    case killed
    /// The program exited while the debugger watched (the `W` reply was sent).
    case exited(UInt8)
}

/// Serves one debugger connection until it detaches, kills, disconnects or the program exits.
/// The target runs in slices of `slice` instructions, between which pending input is checked
/// for Ctrl-C and `afterSlice` runs (to pass on the program's output, say).
public func serve(_ session: GDBSession, over transport: RemoteTransport, slice: UInt64 = 100_000,
                  afterSlice: () -> Void = {}) -> SessionEnd {
    var decoder = PacketDecoder()
    var pending: [RemoteEvent] = []
    var lastSent: [UInt8] = []
    func send(_ payload: String) {
        lastSent = framePacket(payload)
        transport.write(lastSent)
    }
    func report(_ stop: StopReason) -> SessionEnd? {
        session.lastStop = stop
        send(stop.reply)
        if case .exited(let status) = stop { return .exited(status) }
        return nil
    }
    while true {
        if pending.isEmpty {
            let input = transport.read()
            if input.isEmpty { return .killed }
            for byte in input { if let event = decoder.feed(byte) { pending.append(event) } }
            continue
        }
        let event = pending.removeFirst()
        switch event {
        case .ack: break
        case .nack: transport.write(lastSent)
        case .corrupt: transport.write([UInt8(ascii: "-")])
        case .interrupt: if let end = report(.interrupted) { return end }
        case .packet(let payload):
            transport.write([UInt8(ascii: "+")])
            switch session.handle(payload) {
            case .reply(let text): send(text)
            case .step:
                let stop = session.target.step()
                afterSlice()
                if let end = report(stop) { return end }
            case .resume:
                var stop: StopReason?
                while stop == nil {
                    stop = session.target.resume(budget: slice)
                    afterSlice()
                    if stop == nil {
                        for byte in transport.readIfReady() {
                            guard let event = decoder.feed(byte) else { continue }
                            if event == .interrupt { stop = .interrupted } else { pending.append(event) }
                        }
                    }
                }
                if let end = report(stop!) { return end }
            case .detach:
                send("OK")
                return .detached
            case .kill:
                return .killed
            }
        }
    }
}

/// A connected socket (or any file descriptor) as a transport.
public final class FileDescriptorTransport: RemoteTransport {
    public let descriptor: Int32

    public init(descriptor: Int32) { self.descriptor = descriptor }
    deinit { close(descriptor) }

    public func read() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            return count > 0 ? Array(buffer.prefix(count)) : []
        }
    }

    public func readIfReady() -> [UInt8] {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return [] }
        return read()
    }

    public func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }          // the peer went away: read() will report it
            offset += count
        }
    }
}

public struct SocketError: Error, CustomStringConvertible {
    public var description: String
}

/// A listening TCP socket, as QEMU's `-gdb tcp:host:port` opens.
public final class TCPListener {
    let descriptor: Int32
    /// The port bound (useful when 0 asked the system to choose).
    public let port: UInt16
    public let host: String

    /// Parses `tcp::1234` or `tcp:host:1234` (an empty host means 127.0.0.1: the stub gives
    /// full control of the machine, so it is not offered to the network unless asked).
    public convenience init(specification: String) throws(SocketError) {
        let parts = specification.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "tcp", let port = UInt16(parts[2]) else {
            throw SocketError(description: "expected tcp::PORT or tcp:HOST:PORT, found '\(specification)'")
        }
        try self.init(host: parts[1].isEmpty ? "127.0.0.1" : String(parts[1]), port: port)
    }

    public init(host: String, port: UInt16) throws(SocketError) {
        do throws(SocketFailure) {
            (descriptor, self.port) = try IPv4.bound(.stream, host: host, port: port)
        } catch {
            throw SocketError(description: error.description)
        }
        self.host = host
    }

    deinit { close(descriptor) }

    /// Whether a debugger is waiting to be accepted (never blocks).
    public func hasPendingConnection() -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0
    }

    /// Waits for the debugger to connect.
    public func accept() throws(SocketError) -> FileDescriptorTransport {
        while true {
            let fd = Glibc.accept(descriptor, nil, nil)
            if fd >= 0 {
                var yes: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                return FileDescriptorTransport(descriptor: fd)
            }
            if errno != EINTR { throw SocketError(description: "accept: \(String(cString: strerror(errno)))") }
        }
    }
}
