import Driver
import GPU

/// Wrong results that gpucomm has traced to a specific NCCL release, not to the benchmark.
///
/// Each entry names the NCCL versions it was seen with, the exact cases it covers and the evidence.
/// `gpucomm selftest` reports matching failures as known defects of the loaded NCCL (exit 0 unless
/// `--strict`) and lists them; a case that matches and comes out right is counted too, so a fixed
/// release shows up. Outside the versions named, the same cases fail as usual.
public struct KnownDefect: Sendable {
    public var id: String
    /// Inclusive range of `ncclGetVersion` codes (e.g. 22800...22809 = 2.28.0–2.28.9).
    public var versions: ClosedRange<Int32>
    public var summary: String
    let matches: @Sendable (_ c: BenchCase, _ mode: BufferMode, _ ranks: Int) -> Bool

    public func covers(_ c: BenchCase, mode: BufferMode, ranks: Int, ncclVersion: Int32) -> Bool {
        versions.contains(ncclVersion) && matches(c, mode, ranks)
    }

    /// The defect that explains wrong results in this case with this NCCL, if any.
    public static func explaining(_ c: BenchCase, mode: BufferMode, ranks: Int, ncclVersion: Int32) -> KnownDefect? {
        all.first { $0.covers(c, mode: mode, ranks: ranks, ncclVersion: ncclVersion) }
    }

    public static let all: [KnownDefect] = [
        // Seen on 4×H200 with NCCL 2.28.9, in one process and in four: only with symmetric windows
        // (-R 2), only when each rank's block is not a multiple of 4 bytes, only at the mid size
        // (16385/16386 B per rank; 1 MiB + 1 element per rank is right), and the same cases are right
        // with plain (-R 0) and registered (-R 1) buffers on the same run.
        KnownDefect(
            id: "nccl-2.28-symmetric-unaligned-allgather",
            versions: 22800...22809,
            summary: "NCCL 2.28 symmetric-window all_gather in place returns wrong data when each rank's block is not a multiple of 4 bytes",
            matches: { c, mode, ranks in
                mode == .symmetric && c.collective.key == "all_gather" && c.inPlace && (c.sizeBytes / ranks) % 4 != 0
            }),
        KnownDefect(
            id: "nccl-2.28-symmetric-unaligned-reducescatter",
            versions: 22800...22809,
            summary: "NCCL 2.28 symmetric-window reduce_scatter sum of 1- and 2-byte floats returns wrong data when each rank's block is not a multiple of 4 bytes",
            matches: { c, mode, ranks in
                mode == .symmetric && c.collective.key == "reduce_scatter" && c.op == .sum && c.type.isFloat && c.type.size < 4
                    && (c.sizeBytes / ranks) % 4 != 0
            }),
    ]
}
