import GPU
import Kernels

/// The NVSHMEM side shared by every NVSHMEM backend: the kernels (cuda/nvshmem_alltoall.cu), one
/// pair of symmetric buffers and the signal counters. Collective to create (every PE, same sizes).
public final class NVSHMEMAlltoallShared {
    let session: NVSHMEMSession
    /// Each keeps its module loaded.
    let lib: Kernel, put: Kernel, signal: Kernel, direct: Kernel
    public let barrierThread: Kernel, barrierBlock: Kernel
    let send: DeviceBuffer
    let recv: DeviceBuffer
    /// npes u64 signal counters (symmetric), zero between kernels of different backends.
    let signals: DeviceBuffer
    /// recv on every PE as this GPU can load/store it (nvshmem_ptr), nil without a load/store path.
    let remoteRecv: [UnsafeMutableRawPointer?]
    /// send's address on every PE as mapped here (nvshmem_ptr), nil where not load/store reachable.
    let remoteSend: [UnsafeMutableRawPointer?]
    /// Why gc_a2a_direct cannot run (a peer not reachable by load/store), or nil.
    let directProblem: String?

    /// Compiles/loads the kernels and allocates the buffers (symmetric heap: 2 × maxBytesPerRank + a little).
    public init(session: NVSHMEMSession, compiler: RuntimeCompiler, maxBytesPerRank: Int) throws {
        self.session = session
        let d = session.device
        let k = KernelSources.nvshmemAlltoall
        let request = try compiler.nvshmemRequest(name: k.name, source: k.source, arch: d.arch, nvshmem: session.lib).with(headers: k.headers)
        let module = try session.load(image: try compiler.cubin(for: request))
        lib = try module.function("gc_a2a_lib")
        put = try module.function("gc_a2a_put")
        signal = try module.function("gc_a2a_signal")
        direct = try module.function("gc_a2a_direct")
        barrierThread = try module.function("gc_barrier_thread")
        barrierBlock = try module.function("gc_barrier_block")
        send = try session.allocate(bytes: maxBytesPerRank)
        recv = try session.allocate(bytes: maxBytesPerRank)
        signals = try session.allocate(bytes: 8 * session.pes)
        let stream = try Stream(device: d)
        try signals.fill(byte: 0, on: stream)
        try stream.synchronize()
        let r = recv, sb = send
        let remote = (0..<session.pes).map { session.peerAddress(of: r, pe: $0) }
        remoteRecv = remote
        remoteSend = (0..<session.pes).map { session.peerAddress(of: sb, pe: $0) }
        let far = (0..<session.pes).filter { remote[$0] == nil }
        directProblem = far.isEmpty ? nil : "PE(s) \(far.map(String.init).joined(separator: ",")) not reachable by load/store (nvshmem_ptr is NULL): no NVLink/P2P path"
        session.barrier()
    }

    /// Blocks of `threads` that fit on the whole GPU at once for `k`.
    func resident(_ k: Kernel, threads: Int) throws -> Int {
        try k.maxActiveBlocksPerSM(block: threads) * session.device.multiprocessors
    }
}

/// gpucomm's and NVSHMEM's device-initiated all-to-all kernels.
final class NVSHMEMDeviceAlltoall: AlltoallBackend {
    let kind: BackendKind
    let shared: NVSHMEMAlltoallShared
    let options: KernelOptions
    var send: DeviceBuffer { shared.send }
    var recv: DeviceBuffer { shared.recv }
    let resident: Int
    /// Threads of gc_a2a_lib's one block (nvshmem-lib).
    let libThreads: Int
    /// The last size prepared and its kernel's arguments.
    var arguments: (bytes: Int, args: KernelArguments)?
    var pes: Int { shared.session.pes }

    init(kind: BackendKind, shared: NVSHMEMAlltoallShared, options: KernelOptions) throws {
        precondition([.nvshmemLib, .nvshmemPut, .nvshmemSignal, .nvshmemDirect].contains(kind))
        self.kind = kind
        self.shared = shared
        self.options = options
        if kind == .nvshmemDirect, let why = shared.directProblem { throw BackendUnavailable(kind: kind, reason: why) }
        // NVSHMEM's block all-to-all uses too many registers for 1024 threads in one block: the
        // largest block that fits one multiprocessor (a cooperative launch must be resident).
        libThreads = kind == .nvshmemLib ? try [1024, 512, 256, 128, 64, 32].first { try shared.lib.maxActiveBlocksPerSM(block: $0) >= 1 } ?? 0 : 0
        if kind == .nvshmemLib, libThreads == 0 { throw BackendUnavailable(kind: kind, reason: "gc_a2a_lib cannot run even one block of 32 threads") }
        resident = kind == .nvshmemLib ? 1 : try shared.resident(Self.kernel(kind, shared), threads: options.threads)
        if kind != .nvshmemLib, resident < shared.session.pes { throw BackendUnavailable(kind: kind, reason: "only \(resident) blocks of \(options.threads) threads fit on the GPU; need \(shared.session.pes)") }
    }

    static func kernel(_ kind: BackendKind, _ shared: NVSHMEMAlltoallShared) -> Kernel {
        switch kind {
        case .nvshmemLib: return shared.lib
        case .nvshmemPut: return shared.put
        case .nvshmemSignal: return shared.signal
        default: return shared.direct
        }
    }

    func perPeer(_ bytesPerRank: Int) -> Int {
        options.blocksPerPeer(bytesPerPeer: bytesPerRank / pes, pes: pes, sms: shared.session.device.multiprocessors, resident: resident)
    }

    /// Marshals the kernel's arguments for this size (they depend on nothing else).
    func prepare(bytesPerRank: Int) throws {
        let bpp = UInt64(bytesPerRank / pes)
        let dst = UInt64(recv.address), src = UInt64(send.address), sig = UInt64(shared.signals.address)
        let args: [any KernelArgument]
        switch kind {
        case .nvshmemLib, .nvshmemPut: args = [dst, src, bpp]
        case .nvshmemSignal: args = [dst, src, bpp, UInt64(options.chunk), sig]
        default: args = [dst, src, bpp, UInt64(options.interleave), sig]
        }
        arguments = (bytesPerRank, KernelArguments(args))
    }

    func enqueue(bytesPerRank: Int, stream: Stream) throws {
        if arguments?.bytes != bytesPerRank { try prepare(bytesPerRank: bytesPerRank) }
        let a = arguments!.args
        switch kind {
        case .nvshmemLib:
            try shared.lib.launchCooperative(grid: 1, block: libThreads, stream: stream, arguments: a)
        case .nvshmemPut:
            try shared.put.launchCooperative(grid: pes * perPeer(bytesPerRank), block: options.threads, stream: stream, arguments: a)
        case .nvshmemSignal:
            try shared.signal.launch(grid: pes * perPeer(bytesPerRank), block: options.threads, stream: stream, arguments: a)
        default:
            try shared.direct.launch(grid: pes * perPeer(bytesPerRank), block: options.threads, stream: stream, arguments: a)
        }
    }

    func labels(bytesPerRank: Int) -> [String: String] {
        switch kind {
        case .nvshmemLib: return ["blocks": "1", "threads": String(libThreads)]
        case .nvshmemSignal: return ["blocks": String(pes * perPeer(bytesPerRank)), "threads": String(options.threads), "chunk": String(options.chunk)]
        default:
            var l = ["blocks": String(pes * perPeer(bytesPerRank)), "threads": String(options.threads)]
            if kind == .nvshmemDirect && options.interleave > 0 { l["interleave"] = String(options.interleave) }
            return l
        }
    }
}

/// Host-initiated `nvshmemx_alltoallmem_on_stream`, enqueued directly or replayed from a CUDA graph.
final class NVSHMEMHostAlltoall: AlltoallBackend {
    let kind: BackendKind
    let shared: NVSHMEMAlltoallShared
    var send: DeviceBuffer { shared.send }
    var recv: DeviceBuffer { shared.recv }
    let stream: Stream
    var graphs: [Int: GraphExec] = [:]

    init(kind: BackendKind, shared: NVSHMEMAlltoallShared, stream: Stream) {
        precondition(kind == .nvshmemHost || kind == .nvshmemHostGraph)
        self.kind = kind
        self.shared = shared
        self.stream = stream
    }

    func call(_ bytesPerRank: Int, _ s: Stream) throws {
        let bpp = bytesPerRank / shared.session.pes
        try shared.session.alltoall(dest: recv.pointer(), source: UnsafeRawPointer(send.pointer()), bytesPerPE: bpp, on: s)
    }

    /// Captures one all-to-all of this size (graph backend); every PE captures the same sequence.
    func prepare(bytesPerRank: Int) throws {
        guard kind == .nvshmemHostGraph, graphs[bytesPerRank] == nil else { return }
        try stream.synchronize()
        graphs[bytesPerRank] = try GraphExec.capture(streams: [stream]) { try call(bytesPerRank, stream) }.first
    }

    /// Largest per-rank size nvshmem-host-graph runs: captured in a CUDA graph, NVSHMEM 3.4.5's
    /// on-stream all-to-all of 1 GiB per rank never completed on 4×H200 (two sessions, the
    /// watchdog ended both runs; 256 MiB and below ran and checked right). Sizes in between were
    /// not tried.
    static let graphLimit = 256 << 20

    func skipReason(bytesPerRank: Int) -> String? {
        guard kind == .nvshmemHostGraph, bytesPerRank > Self.graphLimit else { return nil }
        return "nvshmemx_alltoallmem_on_stream replayed from a CUDA graph hung at 1 GiB per rank (NVSHMEM 3.4.5, 4×H200); not run above 256 MiB per rank"
    }

    func enqueue(bytesPerRank: Int, stream s: Stream) throws {
        if kind == .nvshmemHost { return try call(bytesPerRank, s) }
        guard let g = graphs[bytesPerRank] else { preconditionFailure("prepare(bytesPerRank:) was not called") }
        try g.launch(on: s)
    }
}

/// `nvshmem-ce`: the copies of `CopyFanout` into each peer's receive buffer in NVSHMEM's
/// symmetric heap (mapped here as nvshmem_ptr gives it), then `nvshmemx_barrier_all_on_stream`.
final class NVSHMEMCopyEngineAlltoall: AlltoallBackend {
    let kind = BackendKind.nvshmemCE
    let shared: NVSHMEMAlltoallShared
    var send: DeviceBuffer { shared.send }
    var recv: DeviceBuffer { shared.recv }
    /// Push: recv's address on every PE; pull: send's; as mapped into this process.
    let remote: [DeviceAddress]
    let fanout: CopyFanout

    init(shared: NVSHMEMAlltoallShared, split: Int, mode: CopyMode, rounds: CopyRounds) throws {
        if let why = shared.directProblem { throw BackendUnavailable(kind: .nvshmemCE, reason: why) }
        self.shared = shared
        let s = shared.session
        remote = (mode == .push ? shared.remoteRecv : shared.remoteSend).map { DeviceAddress($0) }
        fanout = try CopyFanout(device: s.device, pe: s.pe, pes: s.pes, split: split, mode: mode, rounds: rounds)
    }

    func prepare(bytesPerRank: Int) throws { fanout.prepare(bytesPerPeer: bytesPerRank / fanout.pes) }

    func enqueue(bytesPerRank: Int, stream: Stream) throws {
        try fanout.enqueue(send: send.address, recv: recv.address, remote: remote, bytesPerPeer: bytesPerRank / fanout.pes, main: stream)
        shared.session.barrier(on: stream)
    }

    func labels(bytesPerRank: Int) -> [String: String] { fanout.labels }
}
