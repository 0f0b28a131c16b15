// swift-tools-version:6.0
// gpucomm: measure and explain GPU-to-GPU communication.
// No CUDA, NCCL or NVSHMEM at build time: the GPU target loads them at run time.
import PackageDescription

let package = Package(
    name: "gpucomm",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "gpucomm", targets: ["gpucomm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C declarations only (typedefs, enums, struct mirrors, function-pointer types). Nothing linked.
        .target(name: "CGPU"),
        // Library discovery and loading, owners for CUDA objects, run-time compiler, NCCL, NVSHMEM, NVML.
        .target(name: "GPU", dependencies: ["CGPU"]),
        // CUDA C++ kernel sources, embedded in the binary and compiled at run time.
        .target(name: "Kernels", resources: [.embedInCode("cuda")]),
        // Rank discovery, TCP rendezvous, local spawning, timeouts.
        .target(name: "Launch"),
        // Sweeps, statistics, byte accounting.
        .target(name: "Measure"),
        // Running benchmarks: job start (ranks, devices, rendezvous, NVSHMEM session), provenance,
        // watchdog, data-check kernels, the descriptor protocol, the driver that checks and times
        // every benchmark, and the one results sink.
        .target(name: "Driver", dependencies: ["GPU", "Measure", "Kernels", "Launch", "Results"]),
        // NCCL collective benchmarks: descriptors, data fill and check, run.
        .target(name: "Collectives", dependencies: ["Driver", "GPU", "Measure", "Kernels", "Results"]),
        // NVSHMEM benchmarks: one-sided puts (device- and host-initiated), checked.
        .target(name: "NVSHMEMBench", dependencies: ["Driver", "GPU", "Measure", "Kernels", "Collectives"]),
        // All-to-all over every library and style (NCCL, NVSHMEM device/host), checked; NVSHMEM barrier latency.
        .target(name: "AllToAll", dependencies: ["Driver", "GPU", "Measure", "Kernels", "Collectives", "Results"]),
        // 2-D Jacobi solver in every multi-GPU programming model (NCCL, NVSHMEM), checked against one GPU.
        .target(name: "Jacobi", dependencies: ["Driver", "GPU", "Measure", "Kernels", "Collectives", "Results"]),
        // Host<->device and peer copies (copy engine and SM), checked; pointer-chase latency; PCIe and NVLink limits.
        .target(name: "Copy", dependencies: ["Driver", "GPU", "Measure", "Kernels", "Results"]),
        // MoE expert-parallel dispatch and combine (NVSHMEM put-with-signal, NVLink stores, NCCL), routing, layout, byte conventions.
        .target(name: "MoE", dependencies: ["Driver", "GPU", "Measure", "Kernels", "Results"]),
        // The registry: every benchmark's descriptor in one list, for suite, selftest and docs.
        .target(name: "Benchmarks", dependencies: ["Driver", "Collectives", "AllToAll", "NVSHMEMBench", "Jacobi", "Copy", "MoE"]),
        // Record schema, writer, reader, importers of other tools' output.
        .target(name: "Results"),
        // Results -> chart model -> SVG / Markdown / HTML.
        .target(name: "Report", dependencies: ["Results", "Simulate"], resources: [.embedInCode("Example")]),
        // Live NVLink and RDMA counters, rate math, views.
        .target(name: "Monitor", dependencies: ["GPU"]),
        // Multi-NIC selection simulator and scaling model.
        .target(name: "Simulate", dependencies: ["Results", "Measure"]),
        .target(name: "GPUCommCLI", dependencies: [
            "Driver", "GPU", "Kernels", "Launch", "Measure", "Collectives", "NVSHMEMBench", "Results", "Report", "Monitor", "Simulate",
            "AllToAll",
            "Jacobi",
            "MoE",
            "Benchmarks",
            "Copy",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "gpucomm", dependencies: ["GPUCommCLI"]),
        // Mutation fuzzer over every fixture: importers, report, compare, import (.ci/fuzz.sh; docs/errors.md).
        .executableTarget(name: "gpucomm-fuzz", dependencies: ["Driver", "GPUCommCLI", "Results", "Report",
            .product(name: "ArgumentParser", package: "swift-argument-parser")], path: "Sources/Fuzz"),

        // Golden-file comparison shared by the test targets (tests only; not part of the product).
        .target(name: "GoldenFiles", path: "Tests/GoldenFiles"),
        .testTarget(name: "GPUTests", dependencies: ["GPU"]),
        .testTarget(name: "DriverTests", dependencies: ["Driver", "GPU", "Measure"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Driver", "Collectives", "AllToAll", "Jacobi", "NVSHMEMBench"]),
        .testTarget(name: "LaunchTests", dependencies: ["Launch", "gpucomm"]),
        .testTarget(name: "MeasureTests", dependencies: ["Measure"]),
        .testTarget(name: "ResultsTests", dependencies: ["GoldenFiles", "Results"], resources: [.copy("Fixtures"), .copy("Golden")]),
        .testTarget(name: "ReportTests", dependencies: ["GoldenFiles", "Report", "Results"], resources: [.copy("Golden"), .copy("Fixtures")]),
        .testTarget(name: "MonitorTests", dependencies: ["GoldenFiles", "Monitor", "gpucomm"], exclude: ["Golden"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SimulateTests", dependencies: ["GoldenFiles", "Simulate", "Results"], exclude: ["Golden"]),
        .testTarget(name: "CollectivesTests", dependencies: ["Collectives", "Measure"]),
        .testTarget(name: "CLITests", dependencies: ["GoldenFiles", "GPUCommCLI", "gpucomm", "Driver", "Kernels", "NVSHMEMBench", "AllToAll"], exclude: ["Golden"]),
        .testTarget(name: "NVSHMEMBenchTests", dependencies: ["NVSHMEMBench", "Kernels"]),
        .testTarget(name: "AllToAllTests", dependencies: ["AllToAll"]),
        .testTarget(name: "JacobiTests", dependencies: ["Jacobi", "Kernels"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "GPU"]),
        .testTarget(name: "CopyTests", dependencies: ["Copy", "Driver", "GoldenFiles"], exclude: ["Golden"]),
        .testTarget(name: "MoETests", dependencies: ["MoE", "Driver"]),
    ]
)
