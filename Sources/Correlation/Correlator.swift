import MPUISA

/// A structure the scan reports: a finding when the pointers between structures confirm it (or,
/// for an IDT, its own page), a candidate when only its page matched.
public struct Report: Hashable, Sendable {
    public enum Confidence: String, Sendable { case finding, candidate }
    public enum Structure: String, Sendable { case idt, root = "pml4", vmcs, vmxon, ept, other }

    public var confidence: Confidence
    public var structure: Structure
    public var page: UInt64
    public var automaton: String
    public var name: String?
    public var value: UInt64
    /// For EPT tables in a confirmed hierarchy: 4 PML4, 3 PDPT, 2 PD, 1 PT.
    public var level: Int?
    /// How the scan knows, in words ("EPT PDPT reached from the VMCS at 0x64a8000 through its EPTP").
    public var evidence: String
    /// Found by a follow-up run (a page outside the sweep), not by the sweep.
    public var viaFollowUp: Bool
}

/// Turns the runs of a scan (sweep and follow-ups) into findings and candidates. The rules, with
/// their reasons, are in docs/automata.md ("Correlation"); each is keyed on the shipped automata's
/// alert names, so a user's automaton with other names gives candidates only.
public struct Correlator {
    let metadata: [String: MPUMetadata]
    let claims: [RunKey: RunClaims]
    let order: [RunKey]
    let followUps: Set<RunKey>
    /// Targets of each run's follow-ups, by the asking alert.
    let children: [RunKey: [FollowRequest]]
    /// Pages some x86 root's tree reaches below the root, with the pages that reach them.
    let x86Tables: [UInt64: Set<UInt64>]

    static let vmcsLayouts: Set<String> = ["VMCS_NEHALEM", "VMCS_WESTMERE", "VMCS_SANDY_BRIDGE", "VMCS_HASWELL",
                                          "VMCS12_KVM", "VMCS_EXTRA", "VMCS_BOCHS"]
    static let eptKinds: [String: Set<Int>] = ["EPT_NONLEAF": [4, 3, 2], "EPT_PDPT": [3], "EPT_PD": [2], "EPT_PT": [1]]
    static let levelNames = [1: "PT", 2: "PD", 3: "PDPT", 4: "PML4"]

    /// `sweep` and `followUps.order`: runs in the order they were made; `metadata` by automaton name.
    public init(sweep: [(RunKey, [UInt64])], followUps: FollowUpResult, metadata: [String: MPUMetadata]) {
        self.metadata = metadata
        var claims: [RunKey: RunClaims] = [:]
        var order: [RunKey] = []
        for (key, values) in sweep {
            claims[key] = RunClaims(values: values, metadata: metadata[key.automaton] ?? MPUMetadata())
            order.append(key)
        }
        for key in followUps.order {
            claims[key] = RunClaims(values: followUps.runs[key] ?? [], metadata: metadata[key.automaton] ?? MPUMetadata())
            order.append(key)
        }
        self.claims = claims
        self.order = order
        self.followUps = Set(followUps.order)
        var children: [RunKey: [FollowRequest]] = [:]
        var x86: [UInt64: Set<UInt64>] = [:]
        for edge in followUps.edges {
            children[edge.from, default: []].append(edge.request)
            if edge.to.automaton == "x86-walk" && edge.to.page != edge.from.page {
                x86[edge.to.page, default: []].insert(edge.from.page)
            }
        }
        self.children = children
        self.x86Tables = x86
    }

    func claims(_ page: UInt64, _ automaton: String) -> RunClaims? { claims[RunKey(page: page, automaton: automaton)] }

    // MARK: x86 roots

    /// A pml4 candidate is a root unless another root's tree holds its page: then it is one of the
    /// tables below (a process's PD that happens to hold a few entries high in its page).
    func rootEvidence(_ page: UInt64) -> (confirmed: Bool, evidence: String) {
        guard let run = claims(page, "pml4"), run.has("PML4") || run.has("PML4_SELFREF") else {
            return (false, "no page-table root at \(hex(page))")
        }
        let entries = run.follows("PML4_ENTRY").count
        if let parents = x86Tables[page] {
            return (false, "a table below the root at \(hex(parents.min()!)), not a root of its own")
        }
        return (true, "page-table root: \(entries) entries point at tables, and no other root's tree holds this page")
    }

    // MARK: EPT hierarchies

    struct Hierarchy {
        var tables: [UInt64: Int] = [:]
        var problem: String?
    }

    /// Walks the EPT tables under `root` (a PML4) through the ept automaton's follow-ups: every
    /// table reached must be an EPT table of a kind its level allows, and none an x86 table.
    func eptHierarchy(_ root: UInt64) -> Hierarchy {
        var result = Hierarchy()
        var todo: [(UInt64, Int)] = [(root, 4)]
        while let (page, level) = todo.popLast() {
            if let seen = result.tables[page] {
                if seen != level { result.problem = "the table at \(hex(page)) is reached at levels \(seen) and \(level)" }
                continue
            }
            guard let run = claims(page, "ept"), let kind = run.alert(named: Set(Self.eptKinds.keys)), let name = kind.name else {
                result.problem = "\(hex(page)) (level \(level)) is not an EPT table"
                return result
            }
            guard Self.eptKinds[name]!.contains(level) else {
                result.problem = "\(hex(page)) is an \(name) where a \(Self.levelNames[level]!) belongs"
                return result
            }
            if x86Tables[page] != nil {
                result.problem = "\(hex(page)) is an x86 page table"
                return result
            }
            result.tables[page] = level
            let next = run.follows("EPT_NEXT")
            if name == "EPT_NONLEAF" && level == 2 && next.isEmpty {
                result.problem = "the PD at \(hex(page)) points nowhere"
                return result
            }
            for request in next where level > 1 { todo.append((request.page, level - 1)) }
        }
        return result
    }

    // MARK: VMCS

    struct VMCSVerdict {
        var confirmed: Bool
        var evidence: String
        var revision: UInt64?
        var ept: (root: UInt64, hierarchy: Hierarchy)?
        /// A known layout whose HOST_CR3 is a confirmed root but whose EPTP leads to no
        /// complete hierarchy: what a destroyed VM leaves (below).
        var hostRootOnly = false
    }

    func vmcsVerdict(_ key: RunKey, _ alert: ClaimedAlert) -> VMCSVerdict {
        let run = claims[key]!
        let revision = alert.operand.map { $0 & 0x7fff_ffff }
        if key.automaton == "vmcs" {
            guard let cr3 = run.follows("VMCS_HOST_CR3").first else {
                return VMCSVerdict(confirmed: false, evidence: "no HOST_CR3", revision: revision)
            }
            let root = rootEvidence(cr3.page)
            guard root.confirmed else {
                return VMCSVerdict(confirmed: false, evidence: "HOST_CR3 \(hex(cr3.pointer)): \(root.evidence)", revision: revision)
            }
            var evidence = "HOST_CR3 \(hex(cr3.pointer)) is the page-table root at \(hex(cr3.page))"
            guard let eptp = run.follows("VMCS_EPTP").first else {
                return VMCSVerdict(confirmed: true, evidence: evidence + "; EPT off", revision: revision)
            }
            let hierarchy = eptHierarchy(eptp.page)
            if let problem = hierarchy.problem {
                return VMCSVerdict(confirmed: false, evidence: evidence + "; EPTP \(hex(eptp.pointer)): \(problem)", revision: revision,
                                   hostRootOnly: true)
            }
            evidence += "; EPTP \(hex(eptp.pointer)) leads to \(hierarchy.tables.count) EPT tables on 4 levels"
            return VMCSVerdict(confirmed: true, evidence: evidence, revision: revision, ept: (eptp.page, hierarchy))
        }
        // Layout-free: some quadword must be a root and another an EPT hierarchy's root.
        let roots = run.follows("GENERIC_CR3").filter { rootEvidence($0.page).confirmed }
        let epts = run.follows("GENERIC_EPTP").compactMap { request -> (FollowRequest, Hierarchy)? in
            let hierarchy = eptHierarchy(request.page)
            return hierarchy.problem == nil ? (request, hierarchy) : nil
        }
        guard let cr3 = roots.first, let (eptp, hierarchy) = epts.first else {
            return VMCSVerdict(confirmed: false, evidence: roots.isEmpty ? "no quadword points at a page-table root"
                               : "no quadword points at a complete EPT hierarchy", revision: revision)
        }
        return VMCSVerdict(confirmed: true, evidence: "layout-free: \(hex(cr3.pointer)) points at the page-table root at \(hex(cr3.page)), "
                           + "\(hex(eptp.pointer)) at \(hierarchy.tables.count) EPT tables on 4 levels", revision: revision, ept: (eptp.page, hierarchy))
    }

    // MARK: All reports

    public func reports() -> [Report] {
        var reports: [Report] = []
        // VMCS first: VMXON regions and EPT tables are confirmed through them.
        var vmcs: [RunKey: VMCSVerdict] = [:]
        var confirmedRevisions: [UInt64: UInt64] = [:]
        var eptLevels: [UInt64: (level: Int, evidence: String)] = [:]
        for key in order {
            guard let alert = claims[key]!.alert(named: Self.vmcsLayouts.union(["VMCS_GENERIC"])) else { continue }
            let verdict = vmcsVerdict(key, alert)
            vmcs[key] = verdict
            if verdict.confirmed, let revision = verdict.revision, confirmedRevisions[revision] == nil { confirmedRevisions[revision] = key.page }
            if verdict.confirmed, let (root, hierarchy) = verdict.ept {
                for (table, level) in hierarchy.tables where eptLevels[table] == nil {
                    eptLevels[table] = (level, "EPT \(Self.levelNames[level]!) reached from the VMCS at \(hex(key.page)) through its EPTP (PML4 at \(hex(root)))")
                }
            }
        }
        // A destroyed VM's VMCS: KVM VMCLEARs and frees the page, its EPT is torn down, and Linux
        // does not clear freed pages, so the page keeps its host state (seen on the lab's KVM
        // host). Confirmed when its HOST_CR3 is a root and its revision is that of a VMCS the
        // first pass confirmed (the same hypervisor's layout); its EPT is not followed.
        for key in order {
            guard var verdict = vmcs[key], !verdict.confirmed, verdict.hostRootOnly,
                  let revision = verdict.revision, let at = confirmedRevisions[revision] else { continue }
            verdict.confirmed = true
            verdict.evidence += "; revision \(hex(revision)) as the confirmed VMCS at \(hex(at)): the VMCS of a VM whose EPT is gone (destroyed, or torn down)"
            vmcs[key] = verdict
        }
        // EPT hierarchies no VMCS points at: a PML4-shaped table that no EPT table points at, and
        // whose tree is complete on four levels.
        var pointedAt: Set<UInt64> = []
        for key in order where key.automaton == "ept" {
            for request in claims[key]!.follows("EPT_NEXT") where request.page != key.page { pointedAt.insert(request.page) }
        }
        for key in order where key.automaton == "ept" && claims[key]!.has("EPT_NONLEAF") && eptLevels[key.page] == nil && !pointedAt.contains(key.page) {
            let hierarchy = eptHierarchy(key.page)
            guard hierarchy.problem == nil, hierarchy.tables.values.contains(1) || hierarchy.tables.count >= 3 else { continue }
            for (table, level) in hierarchy.tables where eptLevels[table] == nil {
                eptLevels[table] = (level, "EPT \(Self.levelNames[level]!) of a complete 4-level EPT hierarchy from its PML4 at \(hex(key.page)); no VMCS found points at it")
            }
        }

        for key in order {
            let run = claims[key]!
            for alert in run.alerts {
                guard let name = alert.name else { continue }
                let structure = Self.structure(of: name)
                var report = Report(confidence: .candidate, structure: structure, page: key.page, automaton: key.automaton, name: name,
                                    value: alert.value, level: nil, evidence: "", viaFollowUp: followUps.contains(key))
                switch structure {
                case .idt:
                    report.confidence = .finding
                    report.evidence = "256 gates into one kernel code segment (the page alone)"
                case .root:
                    let root = rootEvidence(key.page)
                    report.confidence = root.confirmed ? .finding : .candidate
                    report.evidence = root.evidence
                case .vmcs:
                    let verdict = vmcs[key]!
                    report.confidence = verdict.confirmed ? .finding : .candidate
                    report.evidence = verdict.evidence
                case .vmxon:
                    let revision = alert.operand.map { $0 & 0x7fff_ffff }
                    if let revision, let at = confirmedRevisions[revision] {
                        report.confidence = .finding
                        report.evidence = "revision \(hex(revision)), as the confirmed VMCS at \(hex(at)), and an otherwise empty page"
                    } else {
                        report.evidence = "an empty page after a header of revision \(revision.map { hex($0) } ?? "?"); no confirmed VMCS has that revision"
                    }
                case .ept:
                    if let (level, evidence) = eptLevels[key.page], name == "EPT_IDENTITY_PT" ? level == 1 : true {
                        report.confidence = .finding
                        report.level = level
                        report.evidence = evidence
                    } else {
                        report.evidence = x86Tables[key.page] != nil ? "an x86 page table (below the root at \(hex(x86Tables[key.page]!.min()!)))"
                            : "an EPT-shaped page that no VMCS and no complete hierarchy reaches"
                    }
                case .other:
                    // An automaton of the user's own, outside the rules: its word is taken.
                    report.confidence = .finding
                    report.evidence = "page-level match (no correlation rule covers this alert)"
                }
                reports.append(report)
            }
        }
        return reports
    }

    static func structure(of name: String) -> Report.Structure {
        if name.hasPrefix("IDT") { return .idt }
        if name.hasPrefix("PML4") { return .root }
        if name.hasPrefix("VMXON") { return .vmxon }
        if name.hasPrefix("VMCS") { return .vmcs }
        if name.hasPrefix("EPT") { return .ept }
        return .other
    }
}

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
