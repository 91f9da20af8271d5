// swift-tools-version: 6.0
// The fuzz targets: every parser of outside input, under libFuzzer with AddressSanitizer.
// A package of its own so that the main package's `swift build` never links them (libFuzzer
// brings `main`). Build and run: bash Fuzz/run.sh (docs/reliability.md).
import PackageDescription

let package = Package(
    name: "ERICFuzz",
    dependencies: [.package(name: "ERIC", path: "..")],
    targets: [
        .executableTarget(
            name: "eric-fuzz",
            dependencies: [.product(name: "ERICParsers", package: "ERIC"), "FirmwareCoverage"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        // The firmware's coverage for libFuzzer (its extra-counters section), in C for the section attribute.
        .target(name: "FirmwareCoverage"),
    ]
)
