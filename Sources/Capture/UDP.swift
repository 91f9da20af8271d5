import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// UDP datagrams to and from a collector address (`udp://HOST:PORT`, IPv4).
public final class UDPSocket {
    let descriptor: Int32
    public let port: UInt16
    var destination = sockaddr_in()

    /// Parses `udp://HOST:PORT`.
    public static func parse(_ url: String) throws(CaptureError) -> (host: String, port: UInt16) {
        guard url.hasPrefix("udp://"), let colon = url.lastIndex(of: ":"), colon > url.index(url.startIndex, offsetBy: 6),
              let port = UInt16(url[url.index(after: colon)...]) else {
            throw CaptureError(description: "expected udp://HOST:PORT, found '\(url)'")
        }
        return (String(url[url.index(url.startIndex, offsetBy: 6)..<colon]), port)
    }

    /// A socket bound to `host:port` (port 0: any free port), to receive.
    public init(listeningOn host: String, port: UInt16) throws(CaptureError) {
        do throws(SocketFailure) {
            (descriptor, self.port) = try IPv4.bound(.datagram, host: host, port: port)
        } catch {
            throw CaptureError(description: error.description)
        }
    }

    /// A socket that sends to `host:port`.
    public init(sendingTo host: String, port: UInt16) throws(CaptureError) {
        do throws(SocketFailure) {
            destination = try IPv4.address(host, port)
            descriptor = try IPv4.socket(.datagram)
        } catch {
            throw CaptureError(description: error.description)
        }
        self.port = port
    }

    deinit { close(descriptor) }

    /// Sends one datagram; false if the system refused it (the caller counts it: nothing is
    /// dropped silently).
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        return sent == bytes.count
    }

    /// Where a datagram came from: an IPv4 address and port (network byte order, as the system
    /// gives them).
    public struct Peer: Hashable, Sendable {
        let address: UInt32
        let port: UInt16
        public var portNumber: UInt16 { UInt16(bigEndian: port) }
    }

    /// The next datagram and its sender, waiting at most `milliseconds` (-1: for ever); nil when
    /// none came in time.
    public func receive(waiting milliseconds: Int32) -> (bytes: [UInt8], peer: Peer)? {
        var descriptorPoll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&descriptorPoll, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            break
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = buffer.withUnsafeMutableBytes { raw in
            withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(descriptor, raw.baseAddress, raw.count, 0, $0, &length) }
            }
        }
        guard count >= 0 else { return nil }
        return (Array(buffer.prefix(count)), Peer(address: from.sin_addr.s_addr, port: from.sin_port))
    }

    /// Sends one datagram to `peer`; false if the system refused it.
    @discardableResult
    public func send(_ bytes: [UInt8], to peer: Peer) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = peer.address
        address.sin_port = peer.port
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        return sent == bytes.count
    }

    /// Waits for the next datagram.
    public func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            return count >= 0 ? Array(buffer.prefix(count)) : nil
        }
    }
}
