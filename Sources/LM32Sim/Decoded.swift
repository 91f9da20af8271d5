import LM32ISA
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An LM32 instruction decoded once: its operation, its fields, its extended immediate, what
/// it reads and writes, and its result latency (all from the instruction table), so that
/// running it needs no decoding.
struct DecodedOp {
    var operation: LM32Operation
    /// Bits 25:21, 20:16 and 15:11.
    var r0: UInt8, r1: UInt8, r2: UInt8
    /// Registers read (32: none) and written (32: none), for the latency model.
    var source1: UInt8, source2: UInt8, destination: UInt8
    var latency: UInt8
    /// The immediate as used (extended, or a branch's byte offset).
    var immediate: UInt32
    var word: UInt32

    init(_ word: UInt32) {
        let i = LM32Instruction(word: word)
        let spec = i.spec
        self.word = word
        operation = spec.operation
        r0 = i.r0
        r1 = i.r1
        r2 = i.r2
        switch spec.format {
        case .branch, .jumpImmediate: immediate = UInt32(bitPattern: i.branchOffset)
        case .load, .store: immediate = UInt32(bitPattern: Int32(Int16(bitPattern: i.imm16)))
        default: immediate = i.immediateValue
        }
        func register(_ field: LM32Spec.Field?) -> UInt8 {
            switch field {
            case .r0: return i.r0
            case .r1: return i.r1
            case .r2: return i.r2
            case .ra: return 29
            case nil: return 32
            }
        }
        let roles = spec.roles
        source1 = register(roles.source1)
        source2 = register(roles.source2)
        destination = register(roles.destination)
        latency = spec.latency
    }
}

/// Decoded instructions of one memory, by word; a slot is filled on first use and emptied
/// when the CPU stores into that word. Writes from elsewhere bump the memory's generation,
/// which empties every slot.
final class DecodeCache {
    let memory: Memory
    let base: UInt32
    let words: Int
    let ops: UnsafeMutablePointer<DecodedOp>
    let valid: UnsafeMutablePointer<Bool>
    var generation: UInt64

    init(memory: Memory, base: UInt32) {
        self.memory = memory
        self.base = base
        words = memory.count / 4
        ops = .allocate(capacity: max(words, 1))
        valid = zeroedAllocation(max(words, 1), of: Bool.self)   // all false
        generation = memory.generation
    }

    deinit {
        ops.deallocate()
        free(valid)
    }

    /// The decoded instruction at a word index (filled on first use).
    @inline(__always)
    func op(at index: Int) -> DecodedOp {
        if valid[index] { return ops[index] }
        let s = memory.storage + index * 4
        let word = UInt32(s[0]) << 24 | UInt32(s[1]) << 16 | UInt32(s[2]) << 8 | UInt32(s[3])
        let op = DecodedOp(word)
        (ops + index).initialize(to: op)
        valid[index] = true
        return op
    }

    func flushIfStale() {
        if generation != memory.generation {
            valid.update(repeating: false, count: max(words, 1))
            generation = memory.generation
        }
    }
}
