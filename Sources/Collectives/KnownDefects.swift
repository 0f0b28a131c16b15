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
        // NCCL runs a one-rank communicator's premulsum (and avg of floating-point types, which NCCL
        // turns into premulsum by 1/nranks) with its own kernel, src/device/onerank.cu: bn = min(32,
        // divUp(bytes, 16 KiB)) blocks, block b takes elements [b·c, (b+1)·c) with
        // c = alignUp(nElts/bn, 16/sizeof(T)). nElts/bn rounds down, so when bn·c < nElts the last
        // nElts − bn·c elements are neither scaled nor copied (2.28.0 to 2.29.6; NCCL 2.29.7 computes
        // c from divUp(nElts, bn)). Seen on 1×H100 with NCCL 2.28.9: 1 to 3 wrong elements at the end
        // of odd-sized all_reduce, reduce and reduce_scatter buffers in every buffer mode.
        // Out of place the tail keeps the poison; in place it stays unscaled, which is only wrong
        // for premulsum (avg's factor is 1 with one rank) and only where the value is not 0.
        KnownDefect(
            id: "nccl-2.28-one-rank-premulsum-tail",
            versions: 22800...22906,
            summary: "NCCL 2.28.0–2.29.6 one-rank premulsum and floating-point avg leave the tail elements that src/device/onerank.cu's block split alignUp(nElts/bn, EltPerPack) misses unscaled and uncopied (fixed in 2.29.7: divUp(nElts, bn))",
            matches: { c, _, ranks in
                guard ranks == 1, ["all_reduce", "reduce", "reduce_scatter"].contains(c.collective.key) else { return false }
                let kernel = c.op == .premulsum || (c.op == .avg && c.type.isFloat && !c.inPlace)
                return kernel && NCCLOneRankSplit.uncoveredTail(elements: c.sizeBytes / c.type.size, elementSize: c.type.size) > 0
            }),
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

/// The block split of NCCL's one-rank reduction kernel before 2.29.7 (src/device/onerank.cu,
/// `ncclLaunchOneRank` and `oneRankReduce`), computed here to say which cases its defect reaches.
public enum NCCLOneRankSplit {
    /// Elements at the end of a buffer of `elements` that no block of the kernel touches.
    /// Grid: min(32, ⌈elements × size / 16 KiB⌉) blocks; block b covers [b·c, (b+1)·c) clipped to
    /// the buffer, c = ⌊elements / blocks⌋ rounded up to a multiple of 16 / size (one 16-byte pack).
    public static func uncoveredTail(elements n: Int, elementSize size: Int) -> Int {
        guard n > 0, size > 0, size <= 16 else { return 0 }
        let blocks = min(32, (n * size + (16 << 10) - 1) / (16 << 10))
        let pack = 16 / size
        let chunk = (n / blocks + pack - 1) / pack * pack
        return n - min(blocks * chunk, n)
    }
}
