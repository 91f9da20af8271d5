import Correlation
import HostMemory

/// The checker's host read port (docs/soc.md, "Host read port"): the firmware reads host
/// memory a word at a time, for the evidence a verifier asks for (docs/protocol.md, READ).
/// HOST_ADDRESS_LO/HI (0xd0/0xd4) set where; each read of HOST_DATA (0xd8) gives the next four
/// bytes as they lie in host memory (the first in the high byte: a big-endian word, so that the
/// LM32 stores them in order) and moves the address on by 4. Four bytes that are not wholly in
/// host memory read 0 and set STATUS.ERROR: the port never reads outside the dump.
extension Checker {
    func readHostWord() -> UInt32 {
        defer { hostAddress &+= 4 }
        guard hostAddress % 4 == 0, let word = hostWord(at: hostAddress) else {
            status |= Self.error
            return 0
        }
        return word
    }

    /// The four bytes at `address`, when one range holds them all.
    func hostWord(at address: UInt64) -> UInt32? {
        for range in ranges {
            if let offset = range.offset(of: address, bytes: 4) {
                return (0..<4).reduce(0) { $0 << 8 | UInt32(range.bytes.load(fromByteOffset: offset + $1, as: UInt8.self)) }
            }
        }
        return nil
    }
}
