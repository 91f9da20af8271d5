#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Zero-filled memory for `count` values, freed with `free`.
func zeroedAllocation<T>(_ count: Int, of type: T.Type) -> UnsafeMutablePointer<T> {
    guard let raw = calloc(count, MemoryLayout<T>.stride) else { fatalError("out of memory (\(count) x \(MemoryLayout<T>.stride) bytes)") }
    return raw.bindMemory(to: T.self, capacity: count)
}

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
        // calloc: a large block comes straight from the kernel already zero, so memory the
        // program never touches costs nothing (16 MiB of RAM took 5 ms to clear).
        storage = zeroedAllocation(max(size, 1), of: UInt8.self)
        count = size
        self.writable = writable
        self.waitStates = waitStates
        load(Array(contents.prefix(size)), at: 0)
    }

    deinit { free(storage) }

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

    /// Loads bytes (a firmware image, a debugger's write), whatever `writable` says. Bytes
    /// that would fall outside the memory are not written (callers check the range first).
    public func load(_ data: [UInt8], at offset: Int) {
        guard offset >= 0, offset <= count, data.count <= count - offset else { return }
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
    // The same, split for the lookup on every device access.
    private var starts: [UInt32] = []
    private var ends: [UInt64] = []
    private var devices: [BusDevice] = []
    private var memories: [Memory?] = []

    public init() {}

    /// Adds a device; a range that overlaps another, runs past 4 GiB, or is larger than the
    /// memory behind it (the CPU reaches memory directly) is refused.
    public func attach(_ device: BusDevice, at base: UInt32, size: UInt32, name: String) throws(BusError) {
        guard size > 0, UInt64(base) + UInt64(size) <= 1 << 32 else {
            throw BusError(description: "\(name) at 0x\(String(base, radix: 16)) (+0x\(String(size, radix: 16))) does not fit the 32-bit address space")
        }
        if let memory = device as? Memory, memory.count < Int(size) {
            throw BusError(description: "\(name): a mapping of 0x\(String(size, radix: 16)) bytes over a memory of only 0x\(String(memory.count, radix: 16))")
        }
        let end = UInt64(base) + UInt64(size)
        if let other = mappings.first(where: { UInt64(base) < $0.end && UInt64($0.base) < end }) {
            throw BusError(description: "\(name) at 0x\(String(base, radix: 16))-0x\(String(UInt64(base) + UInt64(size), radix: 16)) overlaps \(other.name) at 0x\(String(other.base, radix: 16))-0x\(String(other.end, radix: 16))")
        }
        mappings.append(Mapping(base: base, size: size, name: name, device: device))
        mappings.sort { $0.base < $1.base }
        starts = mappings.map(\.base)
        ends = mappings.map(\.end)
        devices = mappings.map(\.device)
        memories = mappings.map { $0.device as? Memory }
    }

    /// The index in `mappings` of the one holding `address`. Searches plain address arrays,
    /// so a lookup copies no mapping (no reference counting on the device path).
    @inline(__always)
    func index(of address: UInt32) -> Int? {
        var low = 0, high = starts.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if address < starts[middle] { high = middle - 1 } else if UInt64(address) >= ends[middle] { low = middle + 1 } else { return middle }
        }
        return nil
    }

    /// The mapping holding `address`.
    public func mapping(at address: UInt32) -> Mapping? {
        index(of: address).map { mappings[$0] }
    }

    /// The memory (RAM or ROM) holding `address`, with its range; nil for a device or nothing.
    @inline(__always)
    public func memory(at address: UInt32) -> (memory: Memory, base: UInt32, end: UInt64)? {
        guard let i = index(of: address), let memory = memories[i] else { return nil }
        return (memory, starts[i], ends[i])
    }

    /// A read; nil for a bus error (nothing there, misaligned, or refused by the device).
    public func read(_ address: UInt32, size: Int) -> (value: UInt32, wait: Int)? {
        guard address % UInt32(size) == 0, let i = index(of: address), UInt64(address) + UInt64(size) <= ends[i] else { return nil }
        let device = devices[i]
        guard let value = device.read(address - starts[i], size: size) else { return nil }
        return (value, device.waitStates)
    }

    public func write(_ address: UInt32, size: Int, value: UInt32) -> Int? {
        guard address % UInt32(size) == 0, let i = index(of: address), UInt64(address) + UInt64(size) <= ends[i] else { return nil }
        let device = devices[i]
        guard device.write(address - starts[i], size: size, value: value) else { return nil }
        return device.waitStates
    }
}
