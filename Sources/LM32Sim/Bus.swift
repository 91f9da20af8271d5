/// A memory-mapped device on the LM32's bus. Offsets are relative to the device's base;
/// values are big-endian, 1, 2 or 4 bytes wide and naturally aligned (the bus checks).
public protocol BusDevice: AnyObject {
    /// nil: a bus error (the CPU raises a data bus error exception).
    func read(_ offset: UInt32, size: Int) -> UInt32?
    /// false: a bus error.
    func write(_ offset: UInt32, size: Int, value: UInt32) -> Bool
    /// Cycles an access waits on top of the instruction's own.
    var waitStates: Int { get }
}

/// RAM or ROM, big-endian. Its bytes live in one allocation so that the CPU can reach them
/// directly (the fast path for code and data in memory).
public final class Memory: BusDevice {
    public let storage: UnsafeMutablePointer<UInt8>
    public let count: Int
    public let writable: Bool
    public let waitStates: Int
    /// Bumped on every write that does not come from the CPU's own fast path (devices, a
    /// debugger, a loader), so decoded instructions know when they may be stale.
    public private(set) var generation: UInt64 = 0

    public init(size: Int, writable: Bool = true, waitStates: Int = 0, contents: [UInt8] = []) {
        storage = .allocate(capacity: max(size, 1))
        storage.initialize(repeating: 0, count: max(size, 1))
        count = size
        self.writable = writable
        self.waitStates = waitStates
        load(Array(contents.prefix(size)), at: 0)
    }

    deinit { storage.deallocate() }

    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage, count: count)) }

    public func read(_ offset: UInt32, size: Int) -> UInt32? {
        let o = Int(offset)
        guard o + size <= count else { return nil }
        var value: UInt32 = 0
        for k in 0..<size { value = value << 8 | UInt32(storage[o + k]) }
        return value
    }

    public func write(_ offset: UInt32, size: Int, value: UInt32) -> Bool {
        let o = Int(offset)
        guard writable, o + size <= count else { return false }
        for k in 0..<size { storage[o + k] = UInt8(truncatingIfNeeded: value >> UInt32(8 * (size - 1 - k))) }
        generation &+= 1
        return true
    }

    /// Loads bytes (a firmware image, a debugger's write), whatever `writable` says.
    public func load(_ data: [UInt8], at offset: Int) {
        if !data.isEmpty {
            data.withUnsafeBufferPointer { (storage + offset).update(from: $0.baseAddress!, count: $0.count) }
        }
        generation &+= 1
    }
}

public struct BusError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// Devices at base addresses, in ascending order, never overlapping.
public final class Bus {
    public struct Mapping {
        public let base: UInt32
        public let size: UInt32
        public let name: String
        public let device: BusDevice
        public var end: UInt64 { UInt64(base) + UInt64(size) }
    }

    public private(set) var mappings: [Mapping] = []

    public init() {}

    /// Adds a device; a range that overlaps another, or runs past 4 GiB, is refused.
    public func attach(_ device: BusDevice, at base: UInt32, size: UInt32, name: String) throws(BusError) {
        guard size > 0, UInt64(base) + UInt64(size) <= 1 << 32 else {
            throw BusError(description: "\(name) at 0x\(String(base, radix: 16)) (+0x\(String(size, radix: 16))) does not fit the 32-bit address space")
        }
        let end = UInt64(base) + UInt64(size)
        if let other = mappings.first(where: { UInt64(base) < $0.end && UInt64($0.base) < end }) {
            throw BusError(description: "\(name) at 0x\(String(base, radix: 16))-0x\(String(UInt64(base) + UInt64(size), radix: 16)) overlaps \(other.name) at 0x\(String(other.base, radix: 16))-0x\(String(other.end, radix: 16))")
        }
        mappings.append(Mapping(base: base, size: size, name: name, device: device))
        mappings.sort { $0.base < $1.base }
    }

    /// The mapping holding `address`.
    public func mapping(at address: UInt32) -> Mapping? {
        var low = 0, high = mappings.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let m = mappings[middle]
            if address < m.base { high = middle - 1 } else if UInt64(address) >= m.end { low = middle + 1 } else { return m }
        }
        return nil
    }

    /// A read; nil for a bus error (nothing there, misaligned, or refused by the device).
    public func read(_ address: UInt32, size: Int) -> (value: UInt32, wait: Int)? {
        guard address % UInt32(size) == 0, let m = mapping(at: address), UInt64(address) + UInt64(size) <= m.end,
              let value = m.device.read(address - m.base, size: size) else { return nil }
        return (value, m.device.waitStates)
    }

    public func write(_ address: UInt32, size: Int, value: UInt32) -> Int? {
        guard address % UInt32(size) == 0, let m = mapping(at: address), UInt64(address) + UInt64(size) <= m.end,
              m.device.write(address - m.base, size: size, value: value) else { return nil }
        return m.device.waitStates
    }
}
