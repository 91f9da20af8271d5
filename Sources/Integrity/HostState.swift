import Correlation
import Foundation
import HostMemory

/// What `eric baseline` records of a host and `eric check` compares (docs/integrity.md): the
/// memory map that identifies the host, and its hypervisor if it has one.
public struct HostState: Codable, Equatable, Sendable {
    public static let format = "eric-host-state"
    public static let currentVersion = 1

    public var format = HostState.format
    public var version = HostState.currentVersion
    /// The host's physical memory map (start, length of each range): a state is compared only
    /// with dumps of the same machine.
    public var memoryMap: [[UInt64]]
    public var hypervisor: Hypervisor?
    /// While no VMX structure shows (KVM leaves VMX operation when its last VM stops), the
    /// hypervisor's code as last seen, read again at the same virtual addresses through the
    /// kernel's page tables: a change made while no VM runs is still seen.
    public var dormantCode: [CodePage]?

    public init(memoryMap: [[UInt64]], hypervisor: Hypervisor?, dormantCode: [CodePage]? = nil) {
        self.memoryMap = memoryMap
        self.hypervisor = hypervisor
        self.dormantCode = dormantCode
    }

    /// The hypervisor's code this state knows: its own, or the dormant code it kept.
    public var code: [CodePage] { hypervisor?.code ?? dormantCode ?? [] }
}

/// A hypervisor as its VMX structures show it.
public struct Hypervisor: Codable, Equatable, Sendable {
    /// The VMXON regions (one per logical CPU that entered VMX operation).
    public var vmxon: [UInt64]
    public var vmcs: [VMCSRecord]
    /// Its code: the executable pages around HOST_RIP, through HOST_CR3's page tables.
    public var code: [CodePage]

    public init(vmxon: [UInt64], vmcs: [VMCSRecord], code: [CodePage]) {
        self.vmxon = vmxon
        self.vmcs = vmcs
        self.code = code
    }

    /// The live VMCS, grouped by VM: a VM is the EPT its vCPUs share (its EPTP's root page).
    public var liveVMs: [UInt64: [VMCSRecord]] {
        Dictionary(grouping: vmcs.filter(\.live), by: { ($0.fields["EPT_POINTER"] ?? 0) & RunClaims.addressMask })
    }
}

public struct VMCSRecord: Codable, Equatable, Sendable {
    public var page: UInt64
    /// The layout it was read with (the vmcs automaton's alert, e.g. VMCS_BOCHS).
    public var layout: String
    public var revision: UInt32
    /// Launched and in use, or left behind by a destroyed VM (launch state clear, or its EPT gone).
    public var live: Bool
    /// The fields its layout places, by name.
    public var fields: [String: UInt64]
    /// FNV-1a of the whole page: any change of guest state or exit information shows here.
    public var contentDigest: UInt64

    public init(page: UInt64, layout: String, revision: UInt32, live: Bool, fields: [String: UInt64], contentDigest: UInt64) {
        self.page = page
        self.layout = layout
        self.revision = revision
        self.live = live
        self.fields = fields
        self.contentDigest = contentDigest
    }
}

public struct CodePage: Codable, Equatable, Sendable {
    public var virtual: UInt64
    public var physical: UInt64
    public var bytes: Data

    public init(virtual: UInt64, physical: UInt64, bytes: Data) {
        self.virtual = virtual
        self.physical = physical
        self.bytes = bytes
    }
}

public enum StateError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case otherVersion(Int)
    case notAState
    case otherHost(String)

    public var description: String {
        switch self {
        case .malformed(let detail): "not a readable state file: \(detail)"
        case .otherVersion(let version): "state format version \(version); this eric reads version \(HostState.currentVersion)"
        case .notAState: "not an eric host state (no \"format\": \"\(HostState.format)\")"
        case .otherHost(let detail): "the state is of another host: \(detail)"
        }
    }
}

extension HostState {
    /// Reads a state file's bytes, refusing anything that is not a whole state of this version.
    public init(json: Data) throws(StateError) {
        struct Header: Decodable { var format: String?; var version: Int? }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: json) } catch { throw .malformed(Self.describe(error)) }
        guard header.format == HostState.format else { throw .notAState }
        guard header.version == HostState.currentVersion else { throw .otherVersion(header.version ?? 0) }
        do { self = try JSONDecoder().decode(HostState.self, from: json) } catch { throw .malformed(Self.describe(error)) }
    }

    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? encoder.encode(self)) ?? Data()
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return context.debugDescription + Self.path(context.codingPath)
        case DecodingError.keyNotFound(let key, let context): return "no \"\(key.stringValue)\"" + Self.path(context.codingPath)
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return context.debugDescription + Self.path(context.codingPath)
        default: return "\(error)"
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "" : " at " + keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
