// The MPU's timing model. docs/timing.md gives the reasoning behind each number.

public struct TimingModel: Sendable, Hashable {
    /// How the MPU reaches host memory.
    public enum HostAccess: String, Sendable, CaseIterable {
        /// The checker copies the whole 4 KiB page into a local block RAM by DMA before the
        /// run; each `mload` then reads the local buffer.
        case page
        /// Each `mload` is its own PCIe memory read, and the MPU waits for the completion.
        case word
    }

    public var name: String
    /// MPU (and SoC) clock.
    public var clockHz: Double
    public var hostAccess: HostAccess
    /// PCIe memory-read round trip, request to completion, in nanoseconds.
    public var pcieLatencyNanoseconds: Double
    /// Sustained PCIe read throughput for a page DMA, in bytes per second.
    public var pcieBandwidthBytesPerSecond: Double
    /// Extra cycles an `mload` waits for the local page buffer (block-RAM read latency).
    public var bufferLatencyCycles: Int
    /// Cycles lost when a jump is taken (the instruction fetched behind it is discarded).
    public var takenJumpPenalty: Int
    /// A run that has used more cycles than this is ended by the watchdog.
    public var watchdogCycles: UInt64
    /// The zero-page flag (docs/timing.md): the DMA engine notes, as a page streams into the
    /// buffer, whether every byte was zero, and on such a page the checker does not run the
    /// automata whose zero-page outcome it recorded at load time (those that never read the
    /// page's address): their alerts are queued at once, in 0 MPU cycles. Page mode only.
    public var zeroPageFlag: Bool

    public init(name: String, clockHz: Double, hostAccess: HostAccess, pcieLatencyNanoseconds: Double,
                pcieBandwidthBytesPerSecond: Double, bufferLatencyCycles: Int, takenJumpPenalty: Int, watchdogCycles: UInt64,
                zeroPageFlag: Bool = true) {
        self.name = name
        self.clockHz = clockHz
        self.hostAccess = hostAccess
        self.pcieLatencyNanoseconds = pcieLatencyNanoseconds
        self.pcieBandwidthBytesPerSecond = pcieBandwidthBytesPerSecond
        self.bufferLatencyCycles = bufferLatencyCycles
        self.takenJumpPenalty = takenJumpPenalty
        self.watchdogCycles = watchdogCycles
        self.zeroPageFlag = zeroPageFlag
    }

    /// What a sweep waits for: the link bringing pages (fetch cycles) or the MPU running
    /// automata on them. In word mode every `mload` waits for the link, inside the automata's
    /// cycles: the link's latency is what the sweep waits for.
    public enum Bottleneck: String, Sendable { case link, mpu }

    public func bottleneck(fetchCycles: UInt64, automataCycles: UInt64) -> Bottleneck {
        hostAccess == .word || fetchCycles >= automataCycles ? .link : .mpu
    }

    /// Whether a zero page costs the automata nothing (the flag needs the DMA: page mode).
    public var skipsZeroPages: Bool { zeroPageFlag && hostAccess == .page }

    /// PCIe read latency in whole cycles (rounded up: the MPU waits for the edge after).
    public var pcieLatencyCycles: Int {
        Int((pcieLatencyNanoseconds * clockHz / 1e9).rounded(.up))
    }

    /// Cycles to bring one page into the local buffer: one round trip, then the page at the
    /// link's throughput. Zero in word mode.
    public var pageFetchCycles: Int {
        guard hostAccess == .page else { return 0 }
        return pcieLatencyCycles + Int((4096 * clockHz / pcieBandwidthBytesPerSecond).rounded(.up))
    }

    /// Cycles an `mload` waits on top of its issue cycle.
    public var mloadWaitCycles: Int {
        hostAccess == .page ? bufferLatencyCycles : pcieLatencyCycles
    }

    public func seconds(cycles: UInt64) -> Double { Double(cycles) / clockHz }

    /// The slides' board: a Milkymist-style LM32 SoC on an FPGA at 80 MHz behind a PCIe
    /// Gen1 x1 link; pages are fetched whole by DMA.
    public static let slides = TimingModel(
        name: "slides", clockHz: 80e6, hostAccess: .page, pcieLatencyNanoseconds: 800,
        pcieBandwidthBytesPerSecond: 200e6, bufferLatencyCycles: 1, takenJumpPenalty: 1, watchdogCycles: 1_000_000)

    /// The same board with every `mload` going over PCIe (no page buffer).
    public static let word = TimingModel(
        name: "word", clockHz: 80e6, hostAccess: .word, pcieLatencyNanoseconds: 800,
        pcieBandwidthBytesPerSecond: 200e6, bufferLatencyCycles: 1, takenJumpPenalty: 1, watchdogCycles: 1_000_000)

    /// A faster board: 125 MHz fabric behind a PCIe Gen2 x4 link.
    public static let gen2x4 = TimingModel(
        name: "gen2x4", clockHz: 125e6, hostAccess: .page, pcieLatencyNanoseconds: 600,
        pcieBandwidthBytesPerSecond: 1.6e9, bufferLatencyCycles: 1, takenJumpPenalty: 1, watchdogCycles: 1_000_000)

    /// The slides' board as first designed, before issue 13: no zero-page flag. For comparison.
    public static let slidesPlain = TimingModel(
        name: "slides-plain", clockHz: 80e6, hostAccess: .page, pcieLatencyNanoseconds: 800,
        pcieBandwidthBytesPerSecond: 200e6, bufferLatencyCycles: 1, takenJumpPenalty: 1, watchdogCycles: 1_000_000, zeroPageFlag: false)

    public static let presets: [TimingModel] = [.slides, .word, .gen2x4, .slidesPlain]

    public static func preset(named name: String) -> TimingModel? {
        presets.first { $0.name == name }
    }
}
