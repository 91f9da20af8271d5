import Correlation
import HostMemory

/// VMCS fields the integrity state keeps, by their architectural encodings (Intel SDM vol. 3,
/// appendix B). Bits 13-14 of an encoding give the width, bits 10-11 the type.
public enum VMCSField: UInt32, CaseIterable, Codable, Sendable {
    case vpid = 0x0000
    case ioBitmapA = 0x2000, ioBitmapB = 0x2002, msrBitmap = 0x2004, eptPointer = 0x201a, linkPointer = 0x2800
    case pinControls = 0x4000, processorControls = 0x4002, exitControls = 0x400c, entryControls = 0x4012
    case secondaryControls = 0x401e
    case hostCR0 = 0x6c00, hostCR3 = 0x6c02, hostCR4 = 0x6c04, hostIDTRBase = 0x6c0e
    case hostSysenterEIP = 0x6c12, hostRSP = 0x6c14, hostRIP = 0x6c16

    public var name: String {
        switch self {
        case .vpid: "VPID"
        case .ioBitmapA: "IO_BITMAP_A"
        case .ioBitmapB: "IO_BITMAP_B"
        case .msrBitmap: "MSR_BITMAP"
        case .eptPointer: "EPT_POINTER"
        case .linkPointer: "VMCS_LINK_POINTER"
        case .pinControls: "PIN_BASED_VM_EXEC_CONTROL"
        case .processorControls: "CPU_BASED_VM_EXEC_CONTROL"
        case .exitControls: "VM_EXIT_CONTROLS"
        case .entryControls: "VM_ENTRY_CONTROLS"
        case .secondaryControls: "SECONDARY_VM_EXEC_CONTROL"
        case .hostCR0: "HOST_CR0"
        case .hostCR3: "HOST_CR3"
        case .hostCR4: "HOST_CR4"
        case .hostIDTRBase: "HOST_IDTR_BASE"
        case .hostSysenterEIP: "HOST_IA32_SYSENTER_EIP"
        case .hostRSP: "HOST_RSP"
        case .hostRIP: "HOST_RIP"
        }
    }

    /// Bytes the field holds: 16-bit, 64-bit, 32-bit, natural width (8 on x86-64).
    var size: Int { [2, 8, 4, 8][Int(rawValue >> 13 & 3)] }

    /// Bits of a control field that KVM sets and clears as a VM runs (docs/integrity.md): a
    /// change there is the hypervisor working, not a change of the hypervisor.
    var dynamicBits: UInt64 {
        switch self {
        // interrupt-window (2), CR3-load (15), CR3-store (16), NMI-window (22), MOV-DR (23),
        // monitor trap flag (27) exiting
        case .processorControls: 1 << 2 | 1 << 15 | 1 << 16 | 1 << 22 | 1 << 23 | 1 << 27
        // the VMX-preemption timer (6)
        case .pinControls: 1 << 6
        // load/save IA32_EFER, load IA32_PERF_GLOBAL_CTRL (exit 12, 20, 21; entry 13, 15) and
        // IA-32e mode guest (entry 9), which follows the guest's mode
        case .exitControls: 1 << 12 | 1 << 20 | 1 << 21
        case .entryControls: 1 << 9 | 1 << 13 | 1 << 15
        // descriptor-table exiting (2, UMIP emulation)
        case .secondaryControls: 1 << 2
        default: 0
        }
    }
}

/// Where a VMCS layout keeps its fields: the revision identifiers whose layout is public.
/// Bochs's (revision 0x2b, cpu/vmcs.cc): field E at 0x10 + ((width << 2 | type) * 64 +
/// (E & 0x3ff)) * 4, launch state at 8, checked on the lab's dumps of KVM under Bochs. For the
/// real CPUs' layouts (Intel does not publish them) only what the vmcs automaton reads is known:
/// the link pointer, EPTP, HOST_CR3 and HOST_CR4.
public struct VMCSLayout: Sendable {
    public var name: String
    var offsets: [VMCSField: Int]
    /// Where the launch state is (1 launched, 0 clear), when known.
    var launchState: Int?

    public static func named(_ alert: String) -> VMCSLayout? {
        switch alert {
        case "VMCS_BOCHS":
            var offsets: [VMCSField: Int] = [:]
            for field in VMCSField.allCases {
                let e = Int(field.rawValue)
                offsets[field] = 0x10 + (((e >> 13 & 3) << 2 | (e >> 10 & 3)) * 64 + (e & 0x3ff)) * 4
            }
            return VMCSLayout(name: alert, offsets: offsets, launchState: 8)
        case "VMCS_NEHALEM", "VMCS_SANDY_BRIDGE":
            return VMCSLayout(name: alert, offsets: [.linkPointer: 248, .eptPointer: 232, .hostCR3: 832, .hostCR4: 840])
        case "VMCS_WESTMERE":
            return VMCSLayout(name: alert, offsets: [.linkPointer: 248, .eptPointer: 320, .hostCR3: 832, .hostCR4: 840])
        case "VMCS_HASWELL":
            return VMCSLayout(name: alert, offsets: [.linkPointer: 248, .eptPointer: 320, .hostCR3: 816, .hostCR4: 824])
        case "VMCS12_KVM":
            return VMCSLayout(name: alert, offsets: [.linkPointer: 176, .eptPointer: 120, .hostCR3: 592, .hostCR4: 600])
        default:
            return nil
        }
    }

    /// The fields this layout places, read from the VMCS page at `page`.
    func read(_ page: UnsafeRawPointer) -> [VMCSField: UInt64] {
        var fields: [VMCSField: UInt64] = [:]
        for (field, offset) in offsets where offset + field.size <= 4096 {
            fields[field] = littleEndian(page + offset, field.size)
        }
        return fields
    }
}

/// `size` bytes at `bytes`, little-endian.
func littleEndian(_ bytes: UnsafeRawPointer, _ size: Int) -> UInt64 {
    (0..<size).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(bytes.load(fromByteOffset: $1, as: UInt8.self)) }
}
