import ELF32

extension Bus {
    /// Copies an executable's loadable segments (and the zeros of their .bss tails) into the
    /// memories mapped at their addresses. Every byte must land in writable-or-not memory.
    public func load(_ file: ELF32File) throws(BusError) {
        for segment in file.segments {
            var bytes = segment.data
            bytes += [UInt8](repeating: 0, count: Int(segment.memorySize) - bytes.count)
            try load(bytes, at: segment.address)
        }
    }

    /// Copies `bytes` into the memories at `address` (ROM included: this is the loader, not
    /// the CPU).
    public func load(_ bytes: [UInt8], at address: UInt32) throws(BusError) {
        var done = 0
        while done < bytes.count {
            let at = address &+ UInt32(done)
            guard let mapping = mapping(at: at), let memory = mapping.device as? Memory else {
                throw BusError(description: "no memory at 0x\(String(at, radix: 16)) to load \(bytes.count - done) bytes into")
            }
            let offset = Int(at - mapping.base)
            let count = min(bytes.count - done, min(memory.count, Int(mapping.size)) - offset)
            memory.load(Array(bytes[done..<done + count]), at: offset)
            done += count
        }
    }
}
