import Driver
import Foundation
import GPU
import Kernels

/// What a style runs on: NVSHMEM's session (put-with-signal, NVLink stores) or an NCCL communicator.
public enum MoETransport {
    case nvshmem(NVSHMEMSession)
    case nccl(Communicator)
    /// No peers: one rank's own buffers, for the layout kernel measured alone.
    case local
    /// One of several virtual ranks on one GPU (`gpucomm moe --virtual-ranks`): its own buffers,
    /// the `nccl` style's kernels and plan, device copies instead of NCCL (`VirtualRanks`).
    case virtual

    /// The `nccl` style's transports: the layout exchange, the pack kernel, `MoEExchange`'s lists.
    var exchangesCounts: Bool {
        switch self {
        case .nccl, .virtual: return true
        case .nvshmem, .local: return false
        }
    }
}

/// The compiled MoE kernels of one process (cuda/moe.cu; cuda/moe_nvshmem.cu when NVSHMEM runs).
public final class MoEKernels {
    let fill: Kernel, layout: Kernel, castFP8: Kernel, packNCCL: Kernel, expert: Kernel, reduce: Kernel
    let dispatch: Kernel?, combine: Kernel?

    public init(device: Device, compiler: RuntimeCompiler, session: NVSHMEMSession?) throws {
        let plain = try Module(device: device, image: try compiler.cubin(for: CompileRequest(name: KernelSources.moe.name, source: KernelSources.moe.source, arch: device.arch).with(headers: KernelSources.moe.headers)))
        fill = try plain.function("gc_moe_fill")
        layout = try plain.function("gc_moe_layout")
        castFP8 = try plain.function("gc_moe_cast_fp8")
        packNCCL = try plain.function("gc_moe_pack_nccl")
        expert = try plain.function("gc_moe_expert")
        reduce = try plain.function("gc_moe_reduce")
        if let s = session {
            let r = try compiler.nvshmemRequest(name: KernelSources.moeNVSHMEM.name, source: KernelSources.moeNVSHMEM.source, arch: device.arch, nvshmem: s.lib).with(headers: KernelSources.moeNVSHMEM.headers)
            let m = try s.load(image: try compiler.cubin(for: r))
            dispatch = try m.function("gc_moe_dispatch")
            combine = try m.function("gc_moe_combine")
        } else {
            dispatch = nil; combine = nil
        }
    }
}

/// Multiprocessors this process may use: all of the GPU's, or its CUDA MPS share
/// (CUDA_MPS_ACTIVE_THREAD_PERCENTAGE, 1…100; anything else is ignored).
public func multiprocessorShare(_ device: Device, _ env: [String: String] = ProcessInfo.processInfo.environment) -> Int {
    guard let text = env["CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"], let p = Double(text), p.isFinite, p >= 1, p <= 100 else { return device.multiprocessors }
    return max(1, Int((Double(device.multiprocessors) * p / 100).rounded(.down)))
}

/// One rank's buffers for one shape and style, its tokens filled, every routing uploaded and
/// routing 0's layout built.
///
/// With `shape.routings` R > 1 the top-k ids and weights of all R routings sit one after the
/// other in `topk` and `weights` (routing r at r · tokens · k), and every routing has its own
/// region of `recvCount` (r · ranks · L): a peer one dispatch ahead must not overwrite the counts
/// a rank is still reading. `counts` and `slots` hold the layout of one routing at a time
/// (`layoutRouting`), rebuilt by `enqueueLayout(routing:)`. The receive windows are sized by
/// tokens per source, whatever the routing.
final class MoEState {
    let shape: MoEShape, routings: RoutingSet, format: MessageFormat
    let rank: Int, ranks: Int, localExperts: Int, window: Int
    let device: Device, stream: GPU.Stream
    let kernels: MoEKernels
    let transport: MoETransport
    /// Blocks of `threads` of the dispatch and combine kernels (the same on every rank).
    let blocks: Int
    let threads = 256
    let x, topk, weights, slots, counts, staging, recv, recvCount, y, combRecv, out, sig: DeviceBuffer
    /// NCCL and virtual ranks: every rank's per-expert counts as exchanged (host), and this rank's
    /// send offsets (device).
    var exchanged: [[Int32]] = []
    var offsets: DeviceBuffer?
    /// NCCL: the gathered counts (device) and their host copy (pinned).
    private var gather: (device: DeviceBuffer, host: PinnedBuffer)?
    /// NCCL and virtual ranks: the host side of the offsets' and receive counts' uploads (pinned).
    private var upload: (host: PinnedBuffer, calls: HostCopyCalls)?
    /// The routing whose layout `counts` and `slots` hold (and, for NCCL, `exchanged` and `offsets`).
    private(set) var layoutRouting = 0

    /// The plan of the routing laid out now (`layoutRouting`).
    var plan: ReceivePlan { routings.plans[layoutRouting] }
    var tokens: Int { shape.tokens(rank: rank, ranks: ranks) }
    var channelBarrier: () throws -> Void

    /// Symmetric bytes one shape needs on each PE (what the NVSHMEM heap must hold), with room for alignment.
    static func symmetricBytes(_ s: MoEShape, ranks: Int) -> Int {
        let f = MessageFormat(hidden: s.hidden, dtype: s.dtype)
        let l = s.localExperts(ranks: ranks), w = s.tokens
        let parts = [s.experts * 4, w * f.stride, l * ranks * w * f.stride, max(1, s.routings) * ranks * l * 4, l * ranks * w * s.hidden * 2,
                     s.experts * w * s.hidden * 2, 5 * ranks * 8]
        return parts.reduce(0) { $0 + $1 + (1 << 20) }
    }

    /// One routing (`shape.routings` 1): `plan` is the reference.
    convenience init(shape: MoEShape, plan: ReceivePlan, rank: Int, device: Device, stream: GPU.Stream, kernels: MoEKernels, transport: MoETransport,
                     blocks: Int, barrier: @escaping () throws -> Void) throws {
        try self.init(shape: shape, routings: RoutingSet(plans: [plan]), rank: rank, device: device, stream: stream, kernels: kernels,
                      transport: transport, blocks: blocks, barrier: barrier)
    }

    init(shape: MoEShape, routings: RoutingSet, rank: Int, device: Device, stream: GPU.Stream, kernels: MoEKernels, transport: MoETransport,
         blocks: Int, barrier: @escaping () throws -> Void) throws {
        self.shape = shape; self.routings = routings; self.rank = rank
        let first = routings.plans[0]
        ranks = first.ranks; localExperts = first.localExperts; window = first.window
        format = MessageFormat(hidden: shape.hidden, dtype: shape.dtype)
        self.device = device; self.stream = stream; self.kernels = kernels; self.transport = transport; self.blocks = blocks
        channelBarrier = barrier
        let t = first.routings[rank].tokens, k = shape.topK, h = shape.hidden, e = shape.experts, n = routings.count
        func local(_ n: Int) throws -> DeviceBuffer { try DeviceBuffer(device: device, bytes: n) }
        let sym: (Int) throws -> DeviceBuffer
        switch transport {
        case .nvshmem(let s): sym = { try s.allocate(bytes: $0) }
        case .nccl, .local, .virtual: sym = local
        }
        x = try local(t * h * 2)
        topk = try local(n * t * k * 4)
        weights = try local(n * t * k * 4)
        slots = try local(t * k * 4)
        out = try local(t * h * 2)
        // Symmetric, in the same order on every PE (nvshmem_malloc is collective).
        counts = try sym(e * 4)
        if transport.exchangesCounts { staging = try local(t * k * format.stride) } else { staging = try sym(window * format.stride) }
        recv = try sym(localExperts * ranks * window * format.stride)
        recvCount = try sym(n * ranks * localExperts * 4)
        y = try sym(localExperts * ranks * window * h * 2)
        combRecv = try sym(e * window * h * 2)
        sig = try sym(5 * ranks * 8)
        try sig.fill(byte: 0, on: stream)
        if case .nccl = transport { gather = (try local(ranks * e * 4), try PinnedBuffer(device: device, bytes: ranks * e * 4)) }
        if transport.exchangesCounts {
            upload = (try PinnedBuffer(device: device, bytes: (e + ranks * localExperts) * 4), try HostCopyCalls(cuda: device.cuda))
            offsets = try local(e * 4)
        }
        if t > 0 {
            try topk.copyFromHost(routings.plans.flatMap { $0.routings[rank].experts }.rawBytes)
            try weights.copyFromHost(routings.plans.flatMap { $0.routings[rank].weights }.flatMap { v in withUnsafeBytes(of: v) { Array($0) } })
            try kernels.fill.launch(grid: gridFor(t * h), block: 256, stream: stream, args: [UInt64(x.address), Int32(t), Int32(h), Int32(rank)])
        }
        // cuMemcpyHtoD from pageable memory may return before its DMA lands, and our stream does not
        // wait for the legacy stream: the whole context finishes it before the layout reads topk.
        try device.synchronize()
        try enqueueLayout(routing: 0)
        // Virtual ranks exchange once every rank has its layout (`VirtualRanks`).
        if case .nccl(let comm) = transport { try exchangeLayout(comm, routing: 0) }
        try stream.synchronize()
        try barrier()
    }

    /// The per-iteration barrier on the stream, on the device: NVSHMEM's barrier_all_on_stream, or
    /// a one-element in-place ncclAllReduce of zeros (`sig`, unused by the NCCL style otherwise);
    /// virtual ranks share one stream and need none. False only for the one-GPU layout measurement.
    func enqueueIterationBarrier() throws -> Bool {
        switch transport {
        case .nvshmem(let session): session.barrier(on: stream)
        case .nccl(let comm):
            try comm.allReduce(UnsafeRawPointer(sig.pointer()), sig.pointer(), count: 1, type: .float32, op: .sum, stream: stream, label: "moe iteration barrier")
        case .virtual: break
        case .local: return false
        }
        return true
    }

    func gridFor(_ items: Int) -> Int { max(1, min(4 * device.multiprocessors, (items + 255) / 256)) }

    /// Device address of routing `r`'s top-k ids (int32, tokens × k).
    func topkAddress(_ r: Int) -> UInt64 { UInt64(topk.address + r * tokens * shape.topK * 4) }
    /// Device address of routing `r`'s weights (fp32, tokens × k).
    func weightsAddress(_ r: Int) -> UInt64 { UInt64(weights.address + r * tokens * shape.topK * 4) }
    /// Byte offset of routing `r`'s receive counts (ranks × L int32) in `recvCount`.
    func recvCountOffset(_ r: Int) -> Int { r * ranks * localExperts * 4 }

    /// The layout of routing `routing` (0: the only one with one routing): slots reset to −1, then
    /// gc_moe_layout (one block per expert).
    func enqueueLayout(routing r: Int = 0) throws {
        try slots.fill(byte: 0xFF, on: stream)
        try kernels.layout.launch(grid: shape.experts, block: 256, stream: stream,
                                  args: [topkAddress(r), Int32(tokens), Int32(shape.topK), Int32(shape.experts), UInt64(counts.address), UInt64(slots.address)])
        layoutRouting = r
    }

    /// NCCL's layout exchange of the routing just laid out (`layoutRouting` unless given): every
    /// rank's counts by ncclAllGather, read by the host, then `adoptExchange`. Runs inside every
    /// timed dispatch when there are several routings (the host waits for the gather).
    func exchangeLayout(_ comm: Communicator, routing: Int? = nil) throws {
        guard let g = gather else { preconditionFailure("exchangeLayout without NCCL buffers") }
        let e = shape.experts
        try comm.allGather(UnsafeRawPointer(counts.pointer()), g.device.pointer(), count: e, type: .int32, stream: stream, label: "moe layout exchange")
        try g.host.copy(from: g.device.address, bytes: ranks * e * 4, on: stream)
        try stream.synchronize()
        let all = g.host.pointer.bindMemory(to: Int32.self, capacity: ranks * e)
        try adoptExchange((0..<ranks).map { s in (0..<e).map { all[s * e + $0] } }, routing: routing)
    }

    /// The layout exchange's second half, once the host holds every rank's per-expert counts
    /// (`all[s][e]`, as the all-gather delivers them; virtual ranks read each other's back): they
    /// become `exchanged`, and the send offsets (exclusive scan of this rank's counts) and routing
    /// `routing`'s receive counts (`layoutRouting` unless given) are uploaded on the stream.
    func adoptExchange(_ all: [[Int32]], routing: Int? = nil) throws {
        guard let ex = upload, let offsets else { preconditionFailure("adoptExchange without the nccl style's buffers") }
        precondition(all.count == ranks && all.allSatisfy { $0.count == shape.experts })
        let r = routing ?? layoutRouting
        let e = shape.experts, l = localExperts
        exchanged = all
        let up = ex.host.pointer.bindMemory(to: Int32.self, capacity: e + ranks * l)
        var run: Int32 = 0
        for (i, c) in exchanged[rank].enumerated() { up[i] = run; run += c }
        for s in 0..<ranks { for j in 0..<l { up[e + s * l + j] = exchanged[s][rank * l + j] } }
        // Pinned and on our stream: ordered before the kernels that read them; the host writes
        // these pages again only after the next exchange's synchronize.
        try ex.calls.copy(fromHost: ex.host.pointer, to: offsets.address, bytes: e * 4, on: stream)
        try ex.calls.copy(fromHost: ex.host.pointer + e * 4, to: recvCount.address + recvCountOffset(r), bytes: ranks * l * 4, on: stream)
    }

    /// The `nccl` style's send and receive lists over the last exchange's counts.
    var exchangePlan: MoEExchange { MoEExchange(counts: exchanged, localExperts: localExperts, window: window) }

    /// The `nccl` style's pack (gc_moe_pack_nccl): routing `r`'s messages of this rank into `staging`,
    /// ordered by expert at the exchanged send offsets (FP8 cast here).
    func enqueuePack(routing r: Int) throws {
        try kernels.packNCCL.launch(grid: gridFor(tokens * 32), block: 256, stream: stream,
                                    args: [UInt64(x.address), topkAddress(r), UInt64(slots.address), UInt64(offsets!.address),
                                           UInt64(staging.address), Int32(tokens), Int32(shape.topK), Int32(shape.hidden),
                                           Int32(shape.dtype == .fp8 ? 1 : 0), Int32(rank), UInt64(format.stride)])
    }

    /// This rank's layout read back, against the host reference of routing `routing` (unless
    /// given, the one last enqueued, `layoutRouting`): wrong counts and slots.
    func layoutWrong(routing: Int? = nil) throws -> Int64 {
        try stream.synchronize()
        let ref = routings.plans[routing ?? layoutRouting].layouts[rank]
        let c = try counts.ints(shape.experts), s = try slots.ints(tokens * shape.topK)
        return Int64(zip(c, ref.counts).filter { $0 != $1 }.count + zip(s, ref.slots).filter { $0 != $1 }.count)
    }
}

extension DeviceBuffer {
    /// The first `n` int32 values, read back (synchronously); none for n = 0.
    func ints(_ n: Int, offset: Int = 0) throws -> [Int32] {
        guard n > 0 else { return [] }
        return try copyToHost(count: n * 4, offset: offset).withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
    }

    /// `n` bytes from `offset`, read back; none for n = 0.
    func bytes(_ n: Int, offset: Int = 0) throws -> [UInt8] { n > 0 ? try copyToHost(count: n, offset: offset) : [] }
}

extension Array where Element: FixedWidthInteger {
    /// The values' bytes, little-endian as the GPU reads them.
    var rawBytes: [UInt8] { flatMap { v -> [UInt8] in Swift.withUnsafeBytes(of: v) { [UInt8]($0) } } }
}
