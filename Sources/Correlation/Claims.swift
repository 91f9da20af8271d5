import MPUISA

/// One run of one automaton on one page: the unit the correlation reasons about.
public struct RunKey: Hashable, Sendable, Comparable {
    public var page: UInt64
    public var automaton: String

    public init(page: UInt64, automaton: String) {
        self.page = page
        self.automaton = automaton
    }

    public static func < (a: RunKey, b: RunKey) -> Bool { (a.page, a.automaton) < (b.page, b.automaton) }
}

/// An alert as the correlation reads it: its name, and the value the next `int` carried when
/// the automaton declares one (`.operand`).
public struct ClaimedAlert: Hashable, Sendable {
    public var value: UInt64
    public var name: String?
    public var operand: UInt64?
}

/// A follow-up a run asked for (`.follow`): the page its pointer names, to be checked by
/// another automaton.
public struct FollowRequest: Hashable, Sendable {
    /// The alert that asked (its name, e.g. "VMCS_EPTP").
    public var alert: String
    /// The pointer as the run sent it (flags and all), and the page it names.
    public var pointer: UInt64
    public var automaton: String
    public var depth: Int
    public var page: UInt64 { pointer & RunClaims.addressMask }
}

/// What a run's alert values say once the automaton's metadata is applied: the alerts, each
/// with its operand, and the follow-ups. The `int` after an alert that takes an operand belongs
/// to it, whatever its value (so an operand never reads as an alert of its own).
public struct RunClaims: Hashable, Sendable {
    /// Physical address bits 12-51: what a pointer names (an x86 or EPT entry, a CR3 with its
    /// PCID, an EPTP with its memory type and walk length).
    public static let addressMask: UInt64 = 0x000f_ffff_ffff_f000

    public var alerts: [ClaimedAlert] = []
    public var follows: [FollowRequest] = []

    public init(values: [UInt64], metadata: MPUMetadata) {
        var index = 0
        while index < values.count {
            let value = values[index]
            index += 1
            let name = metadata.alertName(for: value)
            if let rule = metadata.follows.first(where: { $0.value == value }) {
                // A request whose pointer never came (the run ended or faulted) asks for nothing.
                guard index < values.count else { break }
                follows.append(FollowRequest(alert: name ?? "0x" + String(value, radix: 16), pointer: values[index],
                                             automaton: rule.automaton, depth: Int(rule.depth)))
                index += 1
            } else if metadata.operands.contains(value) {
                let operand = index < values.count ? values[index] : nil
                alerts.append(ClaimedAlert(value: value, name: name, operand: operand))
                index += 1
            } else {
                alerts.append(ClaimedAlert(value: value, name: name, operand: nil))
            }
        }
    }

    public func has(_ name: String) -> Bool { alerts.contains { $0.name == name } }
    public func alert(named names: Set<String>) -> ClaimedAlert? { alerts.first { $0.name.map(names.contains) ?? false } }
    public func follows(_ alert: String) -> [FollowRequest] { follows.filter { $0.alert == alert } }
}
