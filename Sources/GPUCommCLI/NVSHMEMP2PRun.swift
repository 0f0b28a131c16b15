import Driver
import Foundation
import GPU
import Measure
import NVSHMEMBench
import Results

/// Before any GPU work: NVSHMEM needs one process per GPU; the pair must exist in the job.
func nvshmemJob(_ launch: LaunchOptions, pair: PEPair, heapBytes: Int, output: ResultsOptions, body: (NVSHMEMRun) throws -> Void) throws {
    let env = ProcessInfo.processInfo.environment
    if try launch.np == nil && env["GPUCOMM_RANK"] == nil && !RankEnvironment.present(env) {
        throw Failure(.usage, "NVSHMEM needs one process per GPU: add --np 2 (or start it with mpirun/srun/torchrun)")
    }
    try NVSHMEMRun.start(launch.spec, heapBytes: heapBytes, resultsPath: output.noResults ? nil : output.results, validate: { world in
        if world < 2 { throw Failure(.usage, "NVSHMEM point-to-point needs 2 PEs (got \(world))") }
        if max(pair.a, pair.b) >= world {
            throw Failure(.usage, "--pair \(pair) needs PE \(max(pair.a, pair.b)) but the job has PEs 0...\(world - 1)")
        }
    }, body: body)
}

/// `nvshmem put` and `nvshmem get`.
struct P2PBandwidthRun {
    let op: P2POp
    let options: P2PBandwidthOptions

    static func discussion(_ op: P2POp) -> String {
        let flow = op == .put ? "PE A writes `size` bytes of its buffer into PE B's" : "PE A reads `size` bytes of PE B's buffer into its own"
        return """
        \(flow) (symmetric memory, nvshmem_malloc); the job may have more PEs, which stay idle. \
        Device-initiated (default): one kernel on A, the bytes cut into one piece per block \
        (--scope block), warp or thread, or pieces of --chunk bytes handed out round-robin (default \
        auto: 256 KiB pieces when an equal piece would be larger; equal pieces spread every block over \
        the whole buffer, which slows stores into the peer above 64 MiB), each moved with \
        nvshmemx_\(op.rawValue)mem_nbi_<scope> (--blocking: without _nbi), then nvshmem_quiet. \
        --host: nvshmemx_\(op.rawValue)mem[_nbi]_on_stream from the CPU (on NVLink a copy-engine copy); \
        --streams N spreads a sample's operations round-robin over N streams, so one copy's start \
        overlaps the previous one's end (each operation still moves the whole size). \
        --scope tma (sm_90+): one thread per block streams its pieces through a shared-memory ring with \
        bulk asynchronous copies (TMA: cp.async.bulk global -> shared -> global) into the peer's memory \
        as nvshmem_ptr maps it; --tma-stage and --tma-stages size the ring (defaults for tma: \
        --blocks 1x --threads 32 --tma-stage 32K --tma-stages 4).

        Checked first: the receiver counts wrong bytes (exit 3 if any). Timing: a sample is one \
        launch doing --inner operations back to back between CUDA events on A; time = median of \
        -n samples / inner. algbw = size / time, one way; --bidirectional (B initiates towards A \
        too) reports each direction on its own row, never the sum.

        Tuning: --blocks, --threads and --chunk take comma lists and every combination is run \
        per size, then the best is printed: \
        `gpucomm nvshmem \(op.rawValue) --np 2 -b 64M -e 1G -f 4 --blocks 1x,2x,4x --threads 256,512,1024`.

        Examples:
          gpucomm nvshmem \(op.rawValue) --np 2                        GPU 0 and 1, 1M..256M
          gpucomm nvshmem \(op.rawValue) --np 4 --pair 0,3 -b 1G -e 1G GPU 0 and 3 of 4
          gpucomm nvshmem \(op.rawValue) --np 2 --host --bidirectional on-stream, both ways
          gpucomm nvshmem \(op.rawValue) --np 2 --host --streams 2 -b 64M -e 1G -f 4   copies overlapped on 2 streams
          gpucomm nvshmem \(op.rawValue) --np 2 --host --host-copy cuda -b 64M -e 1G -f 4   the same copy without NVSHMEM's call
          gpucomm nvshmem \(op.rawValue) --np 2 --scope tma -b 64M -e 1G -f 4 --tma-stage 16K,32K --tma-stages 2,4
        On one host gpucomm sets NVSHMEM_BOOTSTRAP_UID_SOCK_IFNAME=lo and NVSHMEM_REMOTE_TRANSPORT=none \
        unless set, and sizes NVSHMEM_SYMMETRIC_SIZE from -e.
        """
    }

    func run() throws {
        let o = options
        let pair = o.pair.value
        let sizes = try o.sweep.sizes()
        var b = P2PBandwidth.Options()
        b.op = op; b.scope = o.scope?.value ?? .block
        b.blocking = o.blocking; b.bidirectional = o.bidirectional; b.host = o.host; b.hostStreams = o.streams ?? 1; b.hostCopy = o.hostCopy?.value ?? .nvshmem; b.pair = pair
        b.iterations = o.iters; b.warmup = o.warmup; b.inner = o.inner; b.check = o.check == 1
        let shapes = o.host ? [P2PBandwidth.Config()] : o.shapes
        var wrongTotal: Int64 = 0
        do {
            try nvshmemJob(o.launch, pair: pair, heapBytes: 2 * sizes.last! + (256 << 20), output: o.output) { ctx in
                wrongTotal = try P2PBandwidthSweep(op: op, options: b, shapes: shapes, sizes: sizes).run(ctx)
            }
        } catch {
            // e.g. --scope tma on a GPU older than sm_90
            if let e = BenchmarkError.cause(error, as: P2PError.self), e.unavailable { throw Failure(.unavailable, e.description) }
            throw error
        }
        if wrongTotal > 0 { throw Failure(.wrongResults, "\(wrongTotal) wrong bytes") }
    }
}
