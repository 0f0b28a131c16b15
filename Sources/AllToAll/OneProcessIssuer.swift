#if canImport(Glibc)
import Glibc
#endif
import GPU
import Kernels

/// One size's copies (`CopyPlan`) as `OneProcessIssuer` enqueues them, with what every enqueue
/// of that size reuses.
struct IssuerPlan {
    /// The size it was made for (bytes per rank).
    let key: Int
    let copies: [PairCopy]
    /// Per copy: gc_copy16's arguments where an SM kernel moves it, nil where a copy engine does.
    let smArguments: [KernelArguments?]
    /// Per copy: first and last on its stream (`CopyPlan.laneEnds`).
    let ends: (first: [Bool], last: [Bool])
}

/// Rank 0's side of `cuda-ce-1p`: a `Device` for every rank's GPU in this process (matched by PCI
/// bus id), peer access between all of them, the send and receive buffers of every rank allocated
/// here (`cuMemAlloc` in each GPU's primary context; the other ranks map theirs through CUDA IPC
/// to fill and check them), and copy streams and join events on every GPU.
///
/// The layout of the team's one-process figures (356 GB/s at 256 MiB per rank, 383 at 1 GiB):
/// every buffer a native allocation of this process, reachable from every other context through
/// `cuCtxEnablePeerAccess`. Measured on 4×H200 (session 4, calls 3–4): copies between buffers
/// IPC-mapped into this process ran at ~42 GB/s busbw when each was mapped only in its owner's
/// context, and at 205–227 GB/s (cuda-ce's figures) when mapped into every issuing context.
///
/// Ordering across GPUs (`CopySync`): `events` forks every copy stream from rank 0's stream and
/// joins them back into it (`events-graph`: captured once per size and replayed); `flags` gives
/// each GPU a head stream (rank 0's own stream on its GPU) that runs a flag barrier across the
/// GPUs, forks and joins that GPU's copies, and runs a second barrier; `relay` has rank 0's
/// stream start every head and wait for each one's end.
final class OneProcessIssuer {
    /// Per rank: its GPU in this process, and its buffers (allocated here).
    let devices: [Device]
    let sends: [DeviceBuffer]
    let recvs: [DeviceBuffer]
    /// Per rank (its GPU): the copy streams of the plan (`CopyPlan.lanes`) and their join events.
    let streams: [[Stream]]
    let joins: [[Event]]
    /// The rank whose process this is (0), and its stream (`BackendContext.stream`, the one
    /// `enqueue` is given).
    let me: Int
    let stream: Stream
    /// The copy knobs (`copySync`, `copyLocal`, ...).
    let options: KernelOptions
    /// Per GPU: the event its copy streams wait for (`events`: only `forks[me]`, recorded on rank
    /// 0's stream; a wait may take an event of another device: "hEvent may be from a different
    /// context or device than hStream"; `relay`: `forks[me]` also starts the other heads).
    let forks: [Event]
    /// `relay`: per GPU, recorded on its head when its copies are joined.
    let dones: [Event]
    /// `flags`, `relay`: per GPU, the head stream (nil for rank 0's GPU: the caller's stream is its head).
    let heads: [Stream?]
    /// `flags`: per GPU, its barrier flags (one u64 per GPU), the device array of every GPU's flag
    /// address, its epoch counter.
    let flags: [DeviceBuffer]
    let flagsOf: [DeviceBuffer]
    let counts: [DeviceBuffer]
    /// `flags`: per GPU, its barrier's arguments (the same at every launch).
    let barrierArguments: [KernelArguments]
    /// `flags` or `--copy-local sm`: per GPU, the barrier and copy kernels loaded in its context.
    let barriers: [Kernel]
    let localCopies: [Kernel]
    /// `events-graph`: the stream the capture is made on (on rank 0's GPU), and the last size's graph.
    let captureStreams: [Stream]
    var graphs: (key: Int, execs: [GraphExec])?
    /// `GPUCOMM_COPY_TRACE=1` with `--copy-sync flags`: where each all-to-all's time goes.
    let trace: CopyTrace?

    init(context c: BackendContext, adverts: [OneProcessAdvert]) throws {
        let cuda = c.device.cuda
        let visible = try cuda.deviceCount()
        let ids = try (0..<visible).map { normalizePCIBusId(try cuda.pciBusId(ordinal: $0)) }
        var byOrdinal: [Int: Device] = [c.device.ordinal: c.device]
        var devs: [Device] = []
        for (k, a) in adverts.enumerated() {
            if k == c.rank { devs.append(c.device); continue }
            guard let j = ids.firstIndex(of: normalizePCIBusId(a.pciBusId)) else {
                throw BackendUnavailable(kind: .cudaCE1P, reason: "rank \(c.rank) does not see rank \(k)'s GPU (PCI \(a.pciBusId)) among its \(visible) visible devices: every GPU of the job must be visible to rank 0's process (CUDA_VISIBLE_DEVICES)")
            }
            if byOrdinal[j] == nil { byOrdinal[j] = try Device(cuda: cuda, ordinal: j) }
            devs.append(byOrdinal[j]!)
        }
        if Set(devs.map(\.ordinal)).count != devs.count {
            throw BackendUnavailable(kind: .cudaCE1P, reason: "two ranks share a GPU: cuda-ce-1p needs one GPU per rank")
        }
        for a in devs {
            for b in devs where a !== b {
                guard try a.canAccessPeer(b) else {
                    throw BackendUnavailable(kind: .cudaCE1P, reason: "no peer access from device \(a.ordinal) to device \(b.ordinal) (cuDeviceCanAccessPeer)")
                }
                try a.enablePeerAccess(to: b)
            }
        }
        devices = devs
        me = c.rank
        stream = c.stream
        options = c.kernel
        sends = try devs.map { try DeviceBuffer(device: $0, bytes: c.maxBytesPerRank) }
        recvs = try devs.map { try DeviceBuffer(device: $0, bytes: c.maxBytesPerRank) }
        let lanes = CopyPlan.lanes(ranks: c.ranks, split: c.kernel.copySplit, rounds: c.kernel.copyRounds, smPercent: c.kernel.copySMPercent)
        streams = try devs.map { d in try (0..<lanes).map { _ in try Stream(device: d) } }
        joins = try devs.map { d in try (0..<lanes).map { _ in try Event(device: d, timing: false) } }
        forks = try devs.map { try Event(device: $0, timing: false) }
        dones = try devs.map { try Event(device: $0, timing: false) }
        heads = c.kernel.copySync.usesHeads ? try devs.indices.map { $0 == c.rank ? nil : try Stream(device: devs[$0]) } : []
        if c.kernel.copySync == .flags {
            let n = devs.count
            let zeros = [UInt8](repeating: 0, count: 8 * n)
            flags = try devs.map { try DeviceBuffer(device: $0, bytes: 8 * n) }
            for f in flags { try f.copyFromHost(zeros) }
            let table = flags.flatMap { f in withUnsafeBytes(of: UInt64(f.address)) { Array($0) } }
            flagsOf = try devs.map { try DeviceBuffer(device: $0, bytes: 8 * n) }
            for t in flagsOf { try t.copyFromHost(table) }
            counts = try devs.map { try DeviceBuffer(device: $0, bytes: 8) }
            for k in counts { try k.copyFromHost([UInt8](repeating: 0, count: 8)) }
            let (f, t, k) = (flags, flagsOf, counts)  // a closure cannot capture self before init ends
            barrierArguments = devs.indices.map { g in
                KernelArguments([UInt64(t[g].address), UInt64(f[g].address), Int32(g), Int32(n), UInt64(k[g].address)])
            }
        } else {
            flags = []; flagsOf = []; counts = []; barrierArguments = []
        }
        if c.kernel.copySync == .flags || c.kernel.copyLocal == .sm || c.kernel.copySMPercent > 0 {
            let k = KernelSources.ipcBarrier
            let image = try c.compiler.cubin(for: CompileRequest(name: k.name, source: k.source, arch: c.device.arch).with(headers: k.headers))
            let modules = try devs.map { try Module(device: $0, image: image) }
            barriers = try modules.map { try $0.function("gc_ipc_barrier_next") }
            localCopies = try modules.map { try $0.function("gc_copy16") }
        } else {
            barriers = []; localCopies = []
        }
        captureStreams = c.kernel.copySync == .eventsGraph ? [try Stream(device: c.device)] : []
        trace = c.kernel.copySync == .flags && getenv("GPUCOMM_COPY_TRACE").map { String(cString: $0) } == "1"
            ? try CopyTrace(devices: devs, lanes: lanes, localLanes: c.kernel.copySplit) : nil
        try c.device.makeCurrent()
    }

    /// The handles rank 0 sends: every other rank's pair, its own empty.
    func handles(me: Int) throws -> [UInt8] {
        let pairs = try devices.indices.map { k in k == me ? ([], []) : (try sends[k].ipcHandle(), try recvs[k].ipcHandle()) }
        try devices[me].makeCurrent()
        return OneProcessHandles.encode(pairs)
    }

    /// `copies` of the size `key`, with the SM copies' kernel arguments and the lanes' ends worked
    /// out once for every enqueue; `events-graph`: captured here, so no enqueue captures.
    func prepare(_ copies: [PairCopy], key: Int) throws -> IssuerPlan {
        let sm = copies.map { p -> KernelArguments? in
            guard p.bytes > 0, p.bySM || (p.src == p.dst && options.copyLocal == .sm) else { return nil }
            let (src, dst) = addresses(p)
            // Pieces and blocks are 16-byte multiples (CopyFanout.piece, AlltoallLayout.effectiveBytes).
            return KernelArguments([UInt64(dst), UInt64(src), UInt64(p.bytes / 16)])
        }
        let plan = IssuerPlan(key: key, copies: copies, smArguments: sm, ends: CopyPlan.laneEnds(copies))
        if options.copySync == .eventsGraph, graphs?.key != key {
            defer { try? stream.device.makeCurrent() }  // the callers' kernels and events assume rank 0's context
            if graphs != nil {  // the old size's graph goes (idle) before the new one is made
                try stream.synchronize()
                graphs = nil
            }
            let execs = try GraphExec.capture(streams: captureStreams) { try enqueueEvents(plan, main: captureStreams[0]) }
            graphs = (key, execs)
        }
        return plan
    }

    /// Enqueues `plan` after everything before on `main` (rank 0's stream); when `main` reaches the
    /// end of what this enqueued, every copy has completed.
    func enqueue(_ plan: IssuerPlan, main: Stream) throws {
        defer { try? main.device.makeCurrent() }  // the callers' kernels and events assume rank 0's context
        switch options.copySync {
        case .events: try enqueueEvents(plan, main: main)
        case .flags: try enqueueFlags(plan, heads: devices.indices.map { heads[$0] ?? main })
        case .relay: try enqueueRelay(plan, heads: devices.indices.map { heads[$0] ?? main })
        case .eventsGraph:
            guard let g = graphs, g.key == plan.key else { preconditionFailure("prepare(_:key:) did not capture this plan") }
            try main.device.makeCurrent()
            try g.execs[0].launch(on: main)
        }
    }

    /// Every copy stream waits for an event on `main`; `main` waits for every copy.
    private func enqueueEvents(_ plan: IssuerPlan, main: Stream) throws {
        try main.device.makeCurrent()
        let fork = forks[me]
        try fork.record(on: main)
        try issueCopies(plan) { _ in fork }
        try main.device.makeCurrent()
        for j in joins.joined() { try main.wait(for: j) }
    }

    /// Per GPU g on `heads[g]`: a barrier across the GPUs (every GPU's earlier work on its head is
    /// done, rank 0's stream included), g's copies forked and joined by events of g alone, then a
    /// second barrier (every copy into and out of every GPU is done).
    private func enqueueFlags(_ plan: IssuerPlan, heads h: [Stream]) throws {
        let t = trace
        for g in devices.indices {
            try devices[g].makeCurrent()
            try t?.beforeBarrier(g, h[g])
            try barrier(g, on: h[g])
            try forks[g].record(on: h[g])
            try t?.afterFork(g, h[g])
        }
        try issueCopies(plan, trace: t) { forks[$0] }
        for g in devices.indices {
            try devices[g].makeCurrent()
            for j in joins[g] { try h[g].wait(for: j) }
            try t?.afterJoin(g, h[g])
            try barrier(g, on: h[g])
            try t?.afterBarrier(g, h[g])
        }
        t?.finish()
    }

    /// Rank 0's stream (`heads[me]`) tells every other GPU's head to start once its earlier work
    /// is done; every GPU forks and joins its own copies; rank 0's stream waits for every GPU's
    /// join. Each signal is a cross-device event: `forks[me]` out, `dones[g]` back.
    private func enqueueRelay(_ plan: IssuerPlan, heads h: [Stream]) throws {
        let others = devices.indices.filter { $0 != me }
        try devices[me].makeCurrent()
        try forks[me].record(on: h[me])
        for g in others {
            try devices[g].makeCurrent()
            try h[g].wait(for: forks[me])
            try forks[g].record(on: h[g])
        }
        try issueCopies(plan) { forks[$0] }
        for g in others {
            try devices[g].makeCurrent()
            for j in joins[g] { try h[g].wait(for: j) }
            try dones[g].record(on: h[g])
        }
        try devices[me].makeCurrent()
        for j in joins[me] { try h[me].wait(for: j) }
        for g in others { try h[me].wait(for: dones[g]) }
    }

    /// GPU g's part of a barrier across the GPUs, on its head stream `s`.
    private func barrier(_ g: Int, on s: Stream) throws {
        try barriers[g].launch(grid: 1, block: 32 * ((devices.count + 31) / 32), stream: s, arguments: barrierArguments[g])
    }

    /// Every copy of `plan` on its lane, the lane's first after `fork(issuer)`, its last followed by
    /// the lane's join event; the current context follows the issuing GPU.
    private func issueCopies(_ plan: IssuerPlan, trace t: CopyTrace? = nil, after fork: (Int) -> Event) throws {
        var current: Device?
        for (i, p) in plan.copies.enumerated() {
            let q = streams[p.issuer][p.lane]
            if q.device !== current { try q.device.makeCurrent(); current = q.device }
            if plan.ends.first[i] {
                try q.wait(for: fork(p.issuer))
                try t?.laneStart(p.issuer, p.lane, q)
            }
            try copy(p, sm: plan.smArguments[i], on: q)
            if plan.ends.last[i] {
                try t?.laneEnd(p.issuer, p.lane, q)
                try joins[p.issuer][p.lane].record(on: q)
            }
        }
    }

    /// `p` on `q`: by gc_copy16 with `sm` (its prepared arguments), else by a copy engine.
    private func copy(_ p: PairCopy, sm: KernelArguments?, on q: Stream) throws {
        guard p.bytes > 0 else { return }
        if let sm {
            try localCopies[p.issuer].launch(grid: q.device.multiprocessors, block: 512, stream: q, arguments: sm)
        } else {
            let (src, dst) = addresses(p)
            try q.copy(from: src, to: dst, bytes: p.bytes)
        }
    }

    /// Where `p` reads and writes.
    private func addresses(_ p: PairCopy) -> (src: DeviceAddress, dst: DeviceAddress) {
        (sends[p.src].address + p.sendOffset, recvs[p.dst].address + p.recvOffset)
    }
}
