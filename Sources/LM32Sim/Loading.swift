import ELF32

extension Bus {
    /// Copies an executable's loadable segments (and the zeros of their .bss tails) into the
    /// memories mapped at their addresses. Every byte must land in writable-or-not memory.
    /// Errors name the segment and the byte where its program header is.
    public func load(_ file: ELF32File) throws(BusError) {
        for segment in file.segments {
            do throws(BusError) {
                try load(segment)
            } catch {
                let end = UInt64(segment.address) + UInt64(segment.memorySize)
                throw BusError(description: "at byte \(segment.headerOffset): segment \(segment.index) [0x\(String(segment.address, radix: 16)), 0x\(String(end, radix: 16))): \(error.description)")
            }
        }
        // The CPU starts at the entry: nothing loaded there means it would run whatever the
        // memory holds (zeros, or nothing at all).
        guard file.segments.contains(where: { file.entry &- $0.address < UInt32(clamping: $0.data.count) }) else {
            let loaded = file.segments.map { "0x\(String($0.address, radix: 16))+0x\(String($0.data.count, radix: 16))" }
            throw BusError(description: "at byte 24: the entry point 0x\(String(file.entry, radix: 16)) is in no loaded segment (" + (loaded.isEmpty ? "the file has none" : loaded.joined(separator: ", ")) + ")")
        }
    }

    func load(_ segment: ELF32File.Segment) throws(BusError) {
        guard UInt64(segment.address) + UInt64(segment.memorySize) <= 1 << 32 else {
            throw BusError(description: "runs past the end of the 32-bit address space")
        }
        try load(segment.data, at: segment.address)
        // The zeros in chunks, so a bogus p_memsz fails at the first unmapped byte
        // instead of allocating gigabytes first.
        var zeroed = UInt64(segment.data.count)
        let chunk = [UInt8](repeating: 0, count: 0x10000)
        while zeroed < UInt64(segment.memorySize) {
            let count = Int(min(UInt64(chunk.count), UInt64(segment.memorySize) - zeroed))
            try load(count == chunk.count ? chunk : Array(chunk.prefix(count)), at: segment.address &+ UInt32(zeroed))
            zeroed += UInt64(count)
        }
    }

    /// Copies `bytes` into the memories at `address` (ROM included: this is the loader, not
    /// the CPU).
    public func load(_ bytes: [UInt8], at address: UInt32) throws(BusError) {
        guard UInt64(address) + UInt64(bytes.count) <= 1 << 32 else {
            throw BusError(description: "\(bytes.count) bytes at 0x\(String(address, radix: 16)) run past the end of the 32-bit address space")
        }
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
