import Foundation
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// Forwards lines to a syslog collector as RFC 5424 messages: over UDP one message a datagram
/// (RFC 5426), over TCP each framed by its length (RFC 6587 octet counting), as rsyslog and
/// syslog-ng take them.
public final class SyslogSink {
    public enum Transport: String, Sendable { case udp, tcp }

    let descriptor: Int32
    let transport: Transport
    var destination = sockaddr_in()
    let hostname: String
    /// Messages the system refused (counted, never dropped silently).
    public private(set) var failures = 0

    /// `udp://HOST:PORT` or `tcp://HOST:PORT`.
    public static func parse(_ url: String) throws(CaptureError) -> (Transport, String, UInt16) {
        for transport in [Transport.udp, .tcp] where url.hasPrefix(transport.rawValue + "://") {
            let rest = url.dropFirst(transport.rawValue.count + 3)
            guard let colon = rest.lastIndex(of: ":"), colon > rest.startIndex, let port = UInt16(rest[rest.index(after: colon)...]) else { break }
            return (transport, String(rest[..<colon]), port)
        }
        throw CaptureError(description: "expected udp://HOST:PORT or tcp://HOST:PORT, found '\(url)'")
    }

    public init(url: String) throws(CaptureError) {
        let (transport, host, port) = try Self.parse(url)
        self.transport = transport
        var name = [CChar](repeating: 0, count: 256)
        hostname = gethostname(&name, name.count) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "-"
        do throws(SocketFailure) {
            destination = try IPv4.address(host, port)
            descriptor = try IPv4.socket(transport == .udp ? .datagram : .stream)
        } catch {
            throw CaptureError(description: "\(url): \(error.description)")
        }
        if transport == .tcp {
            let connected = withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw CaptureError(description: "\(url): cannot connect: \(reason)")
            }
        }
    }

    deinit { close(descriptor) }

    /// One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`, with
    /// facility local0 (16) and `severity` (4 warning, 6 informational).
    public static func message(severity: Int, hostname: String, appName: String, messageID: String,
                               data: [(String, String)], text: String, at date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        // SD-PARAM values escape '"', '\' and ']' (RFC 5424, 6.3.3); 32473 is the private
        // enterprise number RFC 5612 sets aside for documentation.
        func escaped(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "]", with: "\\]")
        }
        let parameters = data.map { "\($0.0)=\"\(escaped($0.1))\"" }.joined(separator: " ")
        return "<\(16 * 8 + severity)>1 \(formatter.string(from: date)) \(hostname) \(appName) \(getpid()) \(messageID) [eric@32473 \(parameters)] \(text)"
    }

    /// Sends `text` as a message (see `message`).
    public func send(severity: Int, messageID: String, data: [(String, String)], text: String) {
        let line = Self.message(severity: severity, hostname: hostname, appName: "eric", messageID: messageID, data: data, text: text)
        let bytes = Array((transport == .tcp ? "\(line.utf8.count) \(line)" : line).utf8)
        let sent = bytes.withUnsafeBytes { buffer -> Int in
            switch transport {
            case .udp:
                return withUnsafePointer(to: &destination) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            case .tcp:
                var done = 0
                while done < buffer.count {
                    let n = Glibc.send(descriptor, buffer.baseAddress! + done, buffer.count - done, Int32(MSG_NOSIGNAL))
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { return done }
                    done += n
                }
                return done
            }
        }
        if sent != bytes.count { failures += 1 }
    }
}
