import CPcap

/// Ethernet captures through libpcap: frames with time stamps from the simulated clock, so the
/// same scan writes the same bytes (toolchain-notes: pcap_open_dead + pcap_dump).
public struct CaptureError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

public final class CaptureWriter {
    let handle: OpaquePointer
    let dumper: OpaquePointer
    public let path: String
    public private(set) var frames = 0

    public init(path: String) throws(CaptureError) {
        guard let handle = pcap_open_dead(DLT_EN10MB, 65535) else { throw CaptureError(description: "\(path): libpcap cannot open a capture") }
        guard let dumper = pcap_dump_open(handle, path) else {
            let reason = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            // libpcap's message usually names the file already.
            throw CaptureError(description: reason.hasPrefix(path) ? reason : "\(path): \(reason)")
        }
        self.handle = handle
        self.dumper = dumper
        self.path = path
    }

    /// Appends a frame stamped `nanoseconds` after the capture's epoch (microsecond resolution).
    public func write(_ frame: [UInt8], nanoseconds: UInt64) {
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(nanoseconds / 1_000_000_000)
        header.ts.tv_usec = Int(nanoseconds % 1_000_000_000 / 1000)
        header.caplen = UInt32(frame.count)
        header.len = UInt32(frame.count)
        frame.withUnsafeBufferPointer { bytes in
            withUnsafePointer(to: &header) { pointer in
                pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), pointer, bytes.baseAddress)
            }
        }
        frames += 1
    }

    /// Flushes and closes the file.
    public func close() {
        pcap_dump_close(dumper)
        pcap_close(handle)
    }
}

/// The frames of a capture, and what stopped the reading early, if anything.
public struct Capture: Sendable {
    public var frames: [(nanoseconds: UInt64, frame: [UInt8])]
    /// Why reading stopped before the end of the file (a truncated record, say), naming the
    /// frame: the frames before it are still good.
    public var damage: CaptureError?
}

/// Reads the frames of a capture, with their time stamps in nanoseconds. A file that is not
/// a capture is an error; a damaged one gives the frames before the damage and says why.
public func readCapture(path: String) throws(CaptureError) -> Capture {
    var errors = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
    guard let handle = pcap_open_offline(path, &errors) else {
        throw CaptureError(description: "\(path): not a readable pcap capture (libpcap: " + errors.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } + ")")
    }
    defer { pcap_close(handle) }
    var capture = Capture(frames: [])
    var header: UnsafeMutablePointer<pcap_pkthdr>?
    var data: UnsafePointer<UInt8>?
    while true {
        let result = pcap_next_ex(handle, &header, &data)
        if result == -2 { break }
        guard result == 1, let header, let data else {
            capture.damage = CaptureError(description: "frame \(capture.frames.count + 1): \(String(cString: pcap_geterr(handle)))")
            break
        }
        // The file holds 32-bit seconds and microseconds; libpcap may widen them with a sign
        // (a stamp with the top bit set comes out negative). Take them as the file's fields.
        let seconds = UInt64(UInt32(truncatingIfNeeded: header.pointee.ts.tv_sec))
        let micros = UInt64(UInt32(truncatingIfNeeded: header.pointee.ts.tv_usec))
        capture.frames.append((seconds * 1_000_000_000 + micros * 1000, Array(UnsafeBufferPointer(start: data, count: Int(header.pointee.caplen)))))
    }
    return capture
}
