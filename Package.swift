// swift-tools-version: 6.0
import PackageDescription

#if arch(x86_64)
let popcountSettings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-mpopcnt"])]
#else
let popcountSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "ERIC",
    products: [
        .executable(name: "mpuas", targets: ["mpuas"]),
        .executable(name: "eric", targets: ["eric"]),
        .executable(name: "lm32as", targets: ["lm32as"]),
        .library(name: "MPUISA", targets: ["MPUISA"]),
        .library(name: "MPUAsm", targets: ["MPUAsm"]),
        .library(name: "MPUSim", targets: ["MPUSim"]),
        // Every parser of outside input, for the fuzz targets (Fuzz/, a package of its own).
        .library(name: "ERICParsers", targets: ["HostMemory", "AsmKit", "MPUISA", "MPUAsm", "MPUSim", "LM32Asm", "LM32Sim", "ELF32", "Dumps",
                                                "Correlation", "Integrity", "ShippedAutomata", "Capture", "AlertProtocol", "GDBRemote", "EricSoC",
                                                "Sealing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Assembler front end shared by the MPU and (later) LM32 assemblers:
        // lexer, expressions, diagnostics, source loading.
        .target(name: "AsmKit"),
        // The MPU instruction table, encoder/decoder, disassembler and image format.
        .target(name: "MPUISA"),
        .target(name: "MPUAsm", dependencies: ["AsmKit", "MPUISA"]),
        // The cycle-counted MPU and the parallel page scanner. `hamm` is a popcount: use the
        // CPU's instruction (every x86-64 since 2008; Benchmarks/ builds its C baseline alike).
        .target(name: "MPUSim", dependencies: ["MPUISA", "HostMemory", "CPrefetch"], swiftSettings: popcountSettings),
        // Host physical memory: ranges with holes, mapped files, the 2^52 address limit. Below
        // the scanner, the dump readers and the SoC, which all see memory through it.
        .target(name: "HostMemory"),
        // The LM32 instruction table: encoder, decoder, disassembler.
        .target(name: "LM32ISA"),
        .target(name: "ELF32"),
        // libpcap (Debian's libpcap-dev), and pcap captures written and read through it.
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        // zlib, for kdump-compressed dumps' pages.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // ... and the other compressions makedumpfile writes (-l, -p, -z).
        .systemLibrary(name: "CLZO", providers: [.apt(["liblzo2-dev"])]),
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(name: "Capture", dependencies: ["CPcap", "Sockets"]),
        // The alert records and the UDP frames that carry them (docs/protocol.md).
        .target(name: "AlertProtocol"),
        // The ERIC system-on-chip: devices on the LM32's bus (docs/soc.md).
        // Device keys, sealed automata bundles and authenticated records (docs/security.md).
        .target(name: "Sealing", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "EricSoC", dependencies: ["LM32Sim", "MPUISA", "MPUSim", "Correlation", "ELF32", "CPrefetch", "Sealing",
                                                .product(name: "Crypto", package: "swift-crypto")], swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        .target(name: "LM32Asm", dependencies: ["AsmKit", "LM32ISA", "ELF32"]),
        // The GDB remote serial protocol: packets, commands, TCP; and the LM32 as its target.
        .target(name: "GDBRemote", dependencies: ["LM32Sim", "Sockets"]),
        .target(name: "Sockets"),
        // The LM32 core and its bus. The run loop keeps its hot state in locals; the state its
        // rare paths touch is marked @exclusivity(unchecked) property by property (CPU.swift).
        .target(name: "LM32Sim", dependencies: ["LM32ISA", "ELF32"]),
        // Footprint correlation: follow-ups between pages, findings and candidates with evidence.
        .target(name: "Correlation", dependencies: ["MPUISA", "MPUSim"]),
        // Integrity verdicts over time: a host's state from a dump, and baseline comparisons.
        .target(name: "Integrity", dependencies: ["Correlation", "HostMemory"]),
        // The verifier's side of the board: its records and its evidence into a host's state.
        .target(name: "Verifier", dependencies: ["AlertProtocol", "Capture", "Correlation", "EricSoC", "Integrity", "MPUSim", "Sealing",
                                                 .product(name: "Crypto", package: "swift-crypto")]),
        // Memory-dump readers (raw, LiME, ELF core) and writers.
        .target(name: "Dumps", dependencies: ["HostMemory", "CZlib", "CLZO", "CSnappy", "CZstd"]),
        // The shipped automata's sources, built into `eric` (scripts/embed-automata.py).
        .target(name: "ShippedAutomata"),
        // Synthetic dumps with ground truth: `eric synth`, fixtures, benchmarks.
        .target(name: "Synth", dependencies: ["Dumps"]),
        // A cache prefetch hint for the scanner (Swift has no intrinsic for it).
        .target(name: "CPrefetch"),
        // Benchmarks (release builds; Benchmarks/run.sh runs them next to their baselines).
        .executableTarget(name: "mpu-bench", dependencies: ["MPUAsm", "MPUISA", "MPUSim", "Synth"], path: "Benchmarks/MPUBench"),
        .executableTarget(name: "lm32-bench", dependencies: ["LM32ISA", "LM32Sim", "ELF32"], path: "Benchmarks/LM32Bench"),
        // Output and exit-code helpers shared by the command-line tools.
        .target(name: "CLISupport"),
        .executableTarget(
            name: "mpuas",
            dependencies: [
                "MPUAsm", "MPUISA", "AsmKit", "CLISupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "lm32as",
            dependencies: [
                "LM32Asm", "AsmKit", "CLISupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "eric",
            dependencies: [
                "MPUAsm", "MPUISA", "MPUSim", "Dumps", "Synth", "ShippedAutomata", "AsmKit", "CLISupport", "Correlation", "Integrity",
                "ELF32", "LM32Sim", "GDBRemote", "EricSoC", "LM32Asm", "Capture", "AlertProtocol", "Sealing", "Verifier",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/eric-cli"),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "IntegrityTests", dependencies: ["Integrity"]),
        .testTarget(name: "VerifierTests", dependencies: ["Verifier", "AlertProtocol", "Capture", "Sealing"]),
        .testTarget(name: "SealingTests", dependencies: ["Sealing", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "AsmKitTests", dependencies: ["AsmKit"]),
        .testTarget(name: "MPUISATests", dependencies: ["MPUISA"]),
        .testTarget(name: "MPUAsmTests", dependencies: ["MPUAsm", "MPUISA", "AsmKit", "TestSupport", "mpuas"]),
        .testTarget(name: "MPUSimTests", dependencies: ["MPUSim", "MPUAsm", "MPUISA", "Synth", "TestSupport"]),
        .testTarget(name: "DumpsTests", dependencies: ["Dumps", "MPUSim", "MPUAsm", "TestSupport", "CZlib", "CLZO", "CSnappy", "CZstd"]),
        .testTarget(name: "AutomataTests", dependencies: ["Correlation", "Synth", "Dumps", "MPUSim", "MPUAsm", "MPUISA", "ShippedAutomata", "TestSupport"]),
        .testTarget(name: "LM32ISATests", dependencies: ["LM32ISA", "TestSupport"]),
        .testTarget(name: "LM32SimTests", dependencies: ["LM32Sim", "LM32ISA", "ELF32", "TestSupport", "Synth"]),
        .testTarget(name: "LM32AsmTests", dependencies: ["LM32Asm", "LM32ISA", "LM32Sim", "ELF32", "TestSupport", "lm32as"]),
        .testTarget(name: "EricSoCTests", dependencies: ["EricSoC", "Sealing", "GDBRemote", "LM32Sim", "MPUISA", "MPUSim", "MPUAsm", "LM32Asm", "ELF32", "ShippedAutomata", "TestSupport", "AlertProtocol", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "GDBRemoteTests", dependencies: ["GDBRemote", "LM32Sim", "ELF32", "TestSupport", "eric"]),
        .testTarget(name: "EricCLITests", dependencies: ["eric", "Sealing", "EricSoC", "mpuas", "lm32as", "MPUISA", "TestSupport", "Capture", "AlertProtocol"]),
    ]
)

// Release builds link the Swift runtime and Foundation statically (as `--static-swift-stdlib`
// does): loading them as shared libraries took 5 ms of every command, a twentieth of a whole
// `eric scan` of a 512 MiB dump (docs/performance.md). Debug builds and tests keep them shared.
for target in package.targets where target.type != .test && target.type != .system {
    let release = BuildSettingCondition.when(configuration: .release)
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-static-stdlib"], release)]
    target.linkerSettings = (target.linkerSettings ?? []) + [.unsafeFlags(["-static-stdlib"], release)]
}
