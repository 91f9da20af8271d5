import Correlation
import Crypto
import HostMemory

/// The checker's host read port (docs/soc.md, "Host read port"): the firmware reads host
/// memory a word at a time, for the evidence a verifier asks for (docs/protocol.md, READ).
/// HOST_ADDRESS_LO/HI (0xd0/0xd4) set where; each read of HOST_DATA (0xd8) gives the next four
/// bytes as they lie in host memory (the first in the high byte: a big-endian word, so that the
/// LM32 stores them in order) and moves the address on by 4. Four bytes that are not wholly in
/// host memory read 0 and set STATUS.ERROR: the port never reads outside the dump.
///
/// The page digest unit: writing DIGEST_PAGE (0xdc) hashes the 4 KiB page at HOST_ADDRESS
/// with SHA-256 as it streams in over PCIe, and DIGEST_0-7 (0xe0-0xfc) read the digest, a
/// big-endian word each. A page not wholly in host memory, or an address that is not a page's
/// start, sets ERROR and leaves zeros. With it the board vouches for a page the verifier
/// already holds in 32 bytes instead of 4 KiB (docs/protocol.md, DIGEST).
extension Checker {
    func digestHostPage() {
        pageDigest = [UInt32](repeating: 0, count: 8)
        let address = hostAddress
        guard address % 4096 == 0, let bytes = ranges.lazy.compactMap({ range in
            range.offset(of: address).map { UnsafeRawBufferPointer(start: range.bytes + $0, count: 4096) }
        }).first else {
            status |= Self.error
            return
        }
        let digest = Array(SHA256.hash(data: bytes))
        pageDigest = (0..<8).map { word in digest[word * 4..<word * 4 + 4].reduce(0) { $0 << 8 | UInt32($1) } }
    }

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
