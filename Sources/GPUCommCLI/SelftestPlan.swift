import AllToAll
import Benchmarks
import Collectives
import Copy
import Driver
import Jacobi
import MoE
import NVSHMEMBench

/// The multi-process stage of `selftest`: for every benchmark of the registry that runs one
/// process per GPU (all-to-all, NCCL device API, NVSHMEM, Jacobi) and applies to a job of `pes`
/// ranks, the gpucomm command lines that check it at small sizes. Each command exits 3 on a
/// wrong byte. What does not apply is listed with its reason.
struct SelftestStage {
    /// One child command and the registry keys it checks.
    struct Case {
        var arguments: [String]
        var covers: [String]
    }

    var cases: [Case] = []
    var waived: [(key: String, reason: String)] = []

    /// `shape.ranks` PEs; `timeout` is every child's -T; `families`, when given, the only families
    /// checked (the others are listed as waived with `reason`).
    init(shape: JobShape, timeout: Int, families: Set<BenchmarkFamily>? = nil, reason: String = "") {
        let n = ["--np", String(shape.ranks), "-T", String(timeout), "--no-results"]
        let small = ["-n", "3", "-w", "1"]
        var applies: [BenchmarkFamily: [any BenchmarkDescriptor]] = [:]
        for (d, a) in Benchmarks.plan(for: shape) where d.family != .collective {
            if let only = families, !only.contains(d.family) { waived.append((d.qualifiedKey, reason)); continue }
            if let reason = a.reason { waived.append((d.qualifiedKey, reason)) } else { applies[d.family, default: []].append(d) }
        }
        func add(_ args: [String], _ covers: [any BenchmarkDescriptor]) { cases.append(Case(arguments: args + n, covers: covers.map(\.qualifiedKey))) }
        let pes = shape.ranks

        let nvshmem = applies[.nvshmem] ?? []
        for op in nvshmem.compactMap({ $0 as? P2POp }) {
            let o = op.rawValue
            add(["nvshmem", o, "-b", "64K", "-e", "4M", "-f", "8"] + small, [op])
            add(["nvshmem", o, "--host", "-b", "64K", "-e", "4M", "-f", "8"] + small, [op])
            if op == .put {
                add(["nvshmem", o, "--pair", "\(pes - 1),0", "--bidirectional", "--blocking", "--scope", "warp", "-b", "1M", "-e", "1M"] + small, [op])
                // TMA (sm_90+; exit 5 elsewhere, waived): a size whose last piece ends off a 16-byte boundary.
                add(["nvshmem", o, "--scope", "tma", "-b", "64K", "-e", "4M", "-f", "8"] + small, [op])
                add(["nvshmem", o, "--scope", "tma", "-b", "1000003", "-e", "1000003", "--blocks", "7", "--tma-stage", "16K", "--tma-stages", "3"] + small, [op])
            } else {
                // get both ways with round-robin chunks through a small ring.
                add(["nvshmem", o, "--scope", "tma", "--pair", "\(pes - 1),0", "--bidirectional", "--chunk", "48K", "--tma-stage", "16K", "--tma-stages", "2",
                     "-b", "1M", "-e", "1M"] + small, [op])
            }
        }
        let latency = nvshmem.compactMap { $0 as? P2PLatency.Op }
        if !latency.isEmpty {
            add(["nvshmem", "latency", "--ops", latency.map(\.rawValue).joined(separator: ","), "-b", "8", "-e", "4K", "-f", "8", "-n", "100"], latency)
        }
        if let s = nvshmem.first(where: { $0 is SignalPingPong }) { add(["nvshmem", "signal", "-b", "8", "-e", "4K", "-f", "8", "-n", "100"], [s]) }
        let methods = nvshmem.compactMap { $0 as? BarrierLatency.Method }
        if !methods.isEmpty { add(["nvshmem", "barrier", "--methods", methods.map(\.rawValue).joined(separator: ","), "-n", "100", "-w", "10"], methods) }

        let backends = (applies[.alltoall] ?? []).compactMap { $0 as? BackendKind }
        if !backends.isEmpty {
            let sweep = ["-b", "64K", "-e", "16M", "-f", "16"] + small
            add(["alltoall", "--backends", backends.map(\.rawValue).joined(separator: ",")] + sweep, backends)
            if backends.contains(.nvshmemSignal) {
                add(["alltoall", "--backends", "nvshmem-signal", "--chunks", "16K,1M", "-b", "4M", "-e", "4M"] + small, [BackendKind.nvshmemSignal])
            }
            // The copy-engine backends the other way (push) with uneven pieces (cuda-ce-1p with flag barriers);
            // then pulled one round after another with cuda-ce-1p relaying (the default) and its own block by an SM kernel;
            // cuda-ce-1p replayed from a CUDA graph, pushed round by round; and with an SM share of every block.
            let copies = backends.filter { [.nvshmemCE, .cudaCE, .cudaCE1P].contains($0) }
            if !copies.isEmpty {
                let list = copies.map(\.rawValue).joined(separator: ",")
                add(["alltoall", "--backends", list, "--copy-mode", "push", "--copy-split", "3", "--copy-sync", "flags"] + sweep, copies)
                add(["alltoall", "--backends", list, "--copy-rounds", "serial", "--copy-split", "2", "--copy-local", "sm"] + sweep, copies)
            }
            if backends.contains(.cudaCE1P) {
                add(["alltoall", "--backends", "cuda-ce-1p", "--copy-sync", "events-graph", "--copy-rounds", "serial", "--copy-mode", "push"] + sweep, [BackendKind.cudaCE1P])
                add(["alltoall", "--backends", "cuda-ce-1p", "--copy-sync", "events", "--copy-sm", "25", "--copy-split", "2"] + sweep, [BackendKind.cudaCE1P])
            }
            if backends.contains(.nvshmemTMA) {
                add(["alltoall", "--backends", "nvshmem-tma", "--threads", "32", "--blocks", "12", "--tma-stage", "16K", "--tma-stages", "3"] + sweep,
                    [BackendKind.nvshmemTMA])
            }
        }

        let kernels = (applies[.ncclDevice] ?? []).compactMap { $0 as? NCCLDeviceAlltoallKernel }
        if !kernels.isEmpty {
            add(["nccl-device", "alltoall", "-D", kernels.map { String($0.rawValue) }.joined(separator: ","), "-b", "64K", "-e", "16M", "-f", "16"] + small, kernels)
        }

        let copies = (applies[.copy] ?? []).compactMap { $0 as? CopyBenchmark }
        if !copies.isEmpty {
            // copy drives every visible GPU in one process, so it takes no --np; pinned and pageable
            // host memory, sizes from 64 KiB to 4 MiB and one 4 MiB + 16 B, a short chase.
            for sizes in [["-b", "64K", "-e", "4M", "-f", "8"], ["-b", "4194320", "-e", "4194320"]] {
                cases.append(Case(arguments: ["copy"] + copies.map(\.key) + sizes + small
                                      + ["--host-memory", "pinned,pageable", "--latency-bytes", "1M", "--hops", "1000", "-T", String(timeout), "--no-results"],
                                  covers: copies.map(\.qualifiedKey)))
            }
        }

        let variants = (applies[.jacobi] ?? []).compactMap { $0 as? JacobiVariant }
        if !variants.isEmpty {
            // jacobi starts its own ranks (--gpus), so it takes no --np.
            cases.append(Case(arguments: ["jacobi", "--variants", variants.map(\.rawValue).joined(separator: ","), "--gpus", String(pes),
                                          "--nx", "512", "--ny", "512", "-n", "20", "--warmup", "2", "-T", String(timeout), "--no-results"],
                              covers: variants.map(\.qualifiedKey)))
        }

        let moe = applies[.moe] ?? []
        let moeStyles = moe.compactMap { $0 as? MoEStyle }
        let viaNVSHMEM = moeStyles.filter(\.usesNVSHMEM)
        if !viaNVSHMEM.isEmpty {
            // BF16 free shape; FP8 with masked selections, hot experts and a rank without tokens; the
            // presets with their token counts reduced (pplx's are small already).
            let list = ["moe", "--styles", viaNVSHMEM.map(\.rawValue).joined(separator: ",")]
            add(list + ["--tokens", "64", "--hidden", "1024", "--topk", "4", "--experts", "32", "--dtype", "bf16"] + small, viaNVSHMEM)
            add(list + ["--tokens", "48", "--hidden", "512", "--topk", "6", "--experts", "64", "--dtype", "fp8", "--masked", "7", "--skew", "8",
                        "--zero-ranks", "1"] + small, viaNVSHMEM)
            add(list + ["--preset", "deepep-ll,deepep-normal,nccl-ep", "--tokens", "32"] + small, viaNVSHMEM)
            add(list + ["--preset", "pplx"] + small, viaNVSHMEM)
            // Group-limited routing (each token on at most 2 of 8 groups) with a new routing every
            // iteration: the layout (and notify) rebuilt inside every dispatch, checked each time.
            add(list + ["--tokens", "40", "--hidden", "512", "--topk", "4", "--experts", "64", "--dtype", "fp8", "--groups", "8", "--group-topk", "2",
                        "--routings", "3"] + small, viaNVSHMEM)
            if viaNVSHMEM.contains(.nvlinkNormal) {
                // A 4-row ring with 3-row chunks: every (channel, source) ring wraps many times and
                // senders wait on the receivers' heads; then more channels than tokens.
                add(["moe", "--styles", "nvlink-normal", "--tokens", "150", "--hidden", "512", "--topk", "6", "--experts", "32", "--dtype", "fp8",
                     "--masked", "5", "--ring-tokens", "4", "--chunk-tokens", "3", "--channels", "3"] + small, [MoEStyle.nvlinkNormal])
                add(["moe", "--styles", "nvlink-normal", "--tokens", "3", "--hidden", "256", "--topk", "2", "--experts", "16", "--channels", "5"] + small,
                    [MoEStyle.nvlinkNormal])
            }
            // The send/receive split (each half launched alone), FP8 with masked selections, a rank
            // without tokens and three routings cycling (sends of different routings pending at once).
            let halves = viaNVSHMEM.filter(\.hasHalves)
            if !halves.isEmpty {
                add(["moe", "--styles", halves.map(\.rawValue).joined(separator: ","), "--tokens", "48", "--hidden", "512", "--topk", "6", "--experts", "64",
                     "--dtype", "fp8", "--masked", "7", "--zero-ranks", "1", "--routings", "3", "--split"] + small, halves)
            }
        }
        if moeStyles.contains(.nccl) {
            add(["moe", "--styles", "nccl", "--tokens", "64", "--hidden", "1024", "--topk", "4", "--experts", "32", "--dtype", "bf16"] + small, [MoEStyle.nccl])
            add(["moe", "--styles", "nccl", "--tokens", "48", "--hidden", "512", "--topk", "6", "--experts", "64", "--dtype", "fp8", "--masked", "7",
                 "--zero-ranks", "1"] + small, [MoEStyle.nccl])
        } else if Self.virtualNCCL(shape), families?.contains(.moe) ?? true, let at = waived.firstIndex(where: { $0.key == MoEStyle.nccl.qualifiedKey }) {
            // NCCL refuses two ranks on one GPU: the nccl style's ranks run as virtual ranks in one
            // process (`moe --virtual-ranks`, no --np), so it is checked with as many ranks as the others.
            waived.remove(at: at)
            let one = ["--virtual-ranks", String(pes), "--styles", "nccl"]
            let tail = small + ["-T", String(timeout), "--no-results"]
            for args in [["--tokens", "64", "--hidden", "1024", "--topk", "4", "--experts", "32", "--dtype", "bf16"],
                         ["--tokens", "48", "--hidden", "512", "--topk", "6", "--experts", "64", "--dtype", "fp8", "--masked", "7", "--skew", "8",
                          "--zero-ranks", "1"],
                         ["--tokens", "64", "--hidden", "1024", "--topk", "4", "--experts", "32", "--dtype", "bf16", "--routings", "3", "--group-topk", "1"]] {
                cases.append(Case(arguments: ["moe"] + one + args + tail, covers: [MoEStyle.nccl.qualifiedKey]))
            }
        }
        let moeKernels = moe.compactMap { $0 as? MoEKernel }
        if !moeKernels.isEmpty {
            // One GPU, one process: no --np.
            cases.append(Case(arguments: ["moe", "--kernels", "--preset", "deepep-ll", "--cast-tokens", "512", "-n", "3", "-w", "1", "-T", String(timeout),
                                          "--no-results"], covers: moeKernels.map(\.qualifiedKey)))
        }
    }

    /// Whether the `nccl` MoE style is waived only because the ranks share GPUs (NCCL refuses two
    /// ranks on one GPU) and runs as virtual ranks instead (`moe --virtual-ranks`, 2 to 32 ranks).
    static func virtualNCCL(_ shape: JobShape) -> Bool {
        var own = shape
        own.sharesGPUs = false
        own.hasNCCL = true  // virtual ranks copy instead of calling NCCL
        return shape.sharesGPUs && (2...MoECommand.maxVirtualRanks).contains(shape.ranks) && MoEStyle.nccl.applicability(own).reason == nil
    }

    /// Registry keys no case covers although they apply (must be empty: a new benchmark without a check is a defect).
    var uncovered: [String] {
        let covered = Set(cases.flatMap(\.covers))
        let waivedKeys = Set(waived.map(\.key))
        return Benchmarks.registry.filter { $0.family != .collective }.map(\.qualifiedKey).filter { !covered.contains($0) && !waivedKeys.contains($0) }
    }
}
