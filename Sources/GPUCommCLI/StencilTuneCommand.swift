import Driver
import ArgumentParser
import Foundation
import GPU
import Jacobi

/// Hidden: times the Jacobi kernel compiled in several shapes on one GPU against the copy
/// ceiling (how the shipped JROWS/JUNROLL were chosen; docs/jacobi.md).
struct StencilTuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_stencil-tune",
        abstract: "Time the Jacobi kernel in several compile-time shapes (ROWSxUNROLL[xTHREADS]) on one GPU.",
        shouldDisplay: false)

    @Option(name: .long, parsing: .unconditional, help: "Grid columns.")
    var nx = 16384
    @Option(name: .long, parsing: .unconditional, help: "Grid rows.")
    var ny = 16384
    @Option(name: .long, help: "Comma-separated shapes ROWSxUNROLL[xTHREADS] or wave (one wave of resident blocks, as nvshmem_opt and nccl_lsa launch). A thread updates 4 columns when nx % 4 == 0 (UNROLL is then unused), else 1.")
    var shapes: Typed<StencilShapesReading> = "16x1,32x1,64x1,wave"
    @Option(name: .long, parsing: .unconditional, help: "CUDA device ordinal.")
    var device = 0
    @Option(name: [.customShort("n"), .customLong("reps")], parsing: .unconditional, help: "Timed sweeps per shape.")
    var reps = 20

    func validate() throws {
        if let s = shapes.unread {
            throw ValidationError("--shapes: '\(s)' is not ROWSxUNROLL[xTHREADS] with 1 ≤ UNROLL ≤ ROWS ≤ 256, THREADS a multiple of 32 ≤ 1024")
        }
        if let p = JacobiProblem(nx: nx, ny: ny).problem(ranks: [1]) { throw ValidationError(p) }
        guard reps >= 1 else { throw ValidationError("-n must be at least 1") }
    }

    func run() throws {
        let cuda = try Job.loadCUDA()
        let d = try Device(cuda: cuda, ordinal: device)
        let tuner = try StencilTuner(device: d, compiler: try RuntimeCompiler(), problem: JacobiProblem(nx: nx, ny: ny))
        let copy = try tuner.copyCeiling()
        print("# gpucomm _stencil-tune  \(d.name)  grid \(nx) x \(ny) float  \(nx % 4 == 0 ? 4 : 1) column(s) per thread  copy ceiling \(String(format: "%.1f", copy)) GB/s (cuMemcpyDtoD, read + write)")
        print("#       shape     GB/s  % copy   GB/s+norm  % copy")
        for s in shapes.value {
            let r = try tuner.measure(s, reps: reps)
            print(String(format: "%13@ %8.1f %6.1f%% %10.1f %6.1f%%", s.description, r.gbps, 100 * r.gbps / copy, r.gbpsNorm, 100 * r.gbpsNorm / copy))
        }
    }
}

/// `--shapes`: comma-separated `StencilShape`s (no empty item); the first bad one is named.
enum StencilShapesReading: OptionReading {
    static func read(_ text: String) throws -> [StencilShape] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { s in
            guard let shape = StencilShape.parse(String(s)) else { throw UnreadText(text: String(s)) }
            return shape
        }
    }
}
