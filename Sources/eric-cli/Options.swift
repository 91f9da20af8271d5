import ArgumentParser
import MPUSim

/// The device's timing: a preset from docs/timing.md, each number adjustable.
struct TimingOptions: ParsableArguments {
    @Option(help: "Timing preset: \(TimingModel.presets.map(\.name).joined(separator: ", ")) (see docs/timing.md).")
    var timing: String = TimingModel.slides.name

    @Option(parsing: .unconditional, help: ArgumentHelp("Device clock in MHz.", valueName: "MHz"))
    var clock: Double?

    @Option(help: ArgumentHelp("How the MPU reaches host memory: page (DMA the page into a buffer) or word (PCIe read per mload).", valueName: "mode"))
    var hostAccess: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("PCIe read round trip in nanoseconds.", valueName: "ns"))
    var pcieLatency: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("PCIe read throughput in MB/s (10^6 bytes per second).", valueName: "MB/s"))
    var pcieBandwidth: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Cycles a run may use before the watchdog ends it.", valueName: "cycles"))
    var watchdog: UInt64?

    func validate() throws {
        guard TimingModel.preset(named: timing) != nil else {
            throw ValidationError("unknown timing preset '\(timing)' (known: \(TimingModel.presets.map(\.name).joined(separator: ", ")))")
        }
        if let hostAccess, TimingModel.HostAccess(rawValue: hostAccess) == nil {
            throw ValidationError("--host-access must be page or word, not '\(hostAccess)'")
        }
        for (name, value) in [("--clock", clock), ("--pcie-latency", pcieLatency), ("--pcie-bandwidth", pcieBandwidth)] {
            if let value, !(value > 0 && value.isFinite) { throw ValidationError("\(name) must be a positive number") }
        }
        if watchdog == 0 { throw ValidationError("--watchdog must be at least 1 cycle") }
    }

    var model: TimingModel {
        var model = TimingModel.preset(named: timing)!
        if let clock { model.clockHz = clock * 1e6 }
        if let hostAccess { model.hostAccess = TimingModel.HostAccess(rawValue: hostAccess)! }
        if let pcieLatency { model.pcieLatencyNanoseconds = pcieLatency }
        if let pcieBandwidth { model.pcieBandwidthBytesPerSecond = pcieBandwidth * 1e6 }
        if let watchdog { model.watchdogCycles = watchdog }
        return model
    }
}
