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
