#if canImport(Glibc)
import Glibc
#endif

/// The IPv4 socket plumbing shared by the GDB stub (TCP) and the alert sinks (UDP).
public struct SocketFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public enum IPv4 {
    public enum Kind: Sendable { case stream, datagram }

    /// `host` ("localhost" or dotted quad) and `port` as a socket address.
    public static func address(_ host: String, _ port: UInt16) throws(SocketFailure) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            throw SocketFailure("'\(host)' is not an IPv4 address")
        }
        return address
    }

    /// A new socket of `kind`.
    public static func socket(_ kind: Kind) throws(SocketFailure) -> Int32 {
        let fd = Glibc.socket(AF_INET, Int32((kind == .stream ? SOCK_STREAM : SOCK_DGRAM).rawValue), 0)
        guard fd >= 0 else { throw SocketFailure("socket: \(String(cString: strerror(errno)))") }
        return fd
    }

    /// A socket of `kind` bound to `host:port` (0: any free port; TCP sockets also listen).
    /// Returns it with the port actually bound.
    public static func bound(_ kind: Kind, host: String, port: UInt16) throws(SocketFailure) -> (descriptor: Int32, port: UInt16) {
        var address = try self.address(host, port)
        let fd = try socket(kind)
        var yes: Int32 = 1
        if kind == .stream { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size)) }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, kind == .datagram || listen(fd, 1) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw SocketFailure("cannot listen on \(host):\(port): \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, UInt16(bigEndian: actual.sin_port))
    }
}
