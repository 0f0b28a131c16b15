import Driver
import GPU
import Kernels

/// The all-to-all kernel: like nccl-tests' device-API variants `-D 1` (basic) and `-D 2` (optimized).
public enum NCCLDeviceAlltoallKernel: Int, CaseIterable, Sendable {
    /// All blocks copy to one peer at a time (16-byte words when the block size allows).
    case basic = 1
    /// Blocks split across peers, all peers at once, 16-byte words with 4 loads in flight per thread.
    case optimized = 2

    public var name: String { self == .basic ? "basic" : "optimized" }
    var symbol: String { self == .basic ? "gc_lsa_alltoall_basic" : "gc_lsa_alltoall_opt" }
}

/// An all-to-all written with NCCL's device API (LSA): each rank's kernel stores its blocks
/// straight into the peers' receive buffers, reached by load/store through a symmetric window.
/// One GPU per process. Same semantics as `ncclAlltoAll`: the send buffer holds n blocks of
/// S/n bytes; block j goes to rank j's receive buffer at position rank.
///
/// `init` is collective (every rank, the same `maxBytesPerRank` and `maxBlocks`); so is each
/// `enqueue` (every rank, the same size, kernel and blocks). Needs NCCL 2.28+ with headers beside
/// its library and an LSA team spanning the communicator (one NVLink/P2P domain); otherwise
/// `init` throws `NCCLDeviceUnavailable` with a one-line reason to print.
public final class NCCLDeviceAlltoall: @unchecked Sendable {
    public static let threadsPerBlock = KernelConstants.ncclAlltoallThreads
    public let comm: Communicator
    public let window: NCCLDeviceWindow
    /// Where the caller puts the data to send (`maxBytesPerRank` bytes, in the window).
    public let send: DeviceBuffer
    /// Where the data arrives (`maxBytesPerRank` bytes, in the window).
    public let recv: DeviceBuffer
    public let maxBytesPerRank: Int
    /// Largest grid `enqueue` takes: the requested maximum, capped by what is resident at once.
    public let maxBlocks: Int
    let kernels: [NCCLDeviceAlltoallKernel: Kernel]
    let recvOffset: Int

    public init(comm: Communicator, compiler: RuntimeCompiler, maxBytesPerRank: Int, maxBlocks: Int = 128) throws {
        precondition(maxBytesPerRank > 0 && maxBlocks > 0)
        self.comm = comm
        self.maxBytesPerRank = maxBytesPerRank
        let device = comm.device
        let api = try NCCLDevice(nccl: comm.nccl, compiler: compiler, arch: device.arch)
        // The same program (source and headers) as `_compile-kernels`, so its warm cubin is this one.
        let program = KernelSources.ncclLSAAlltoall
        let module = try api.module(name: program.name, source: program.source, headers: program.headers.map { InMemoryHeader($0) }, device: device)
        var k: [NCCLDeviceAlltoallKernel: Kernel] = [:]
        var resident = Int.max
        for v in NCCLDeviceAlltoallKernel.allCases {
            let f = try module.function(v.symbol)
            resident = min(resident, try f.maxActiveBlocksPerSM(block: NCCLDeviceAlltoall.threadsPerBlock) * device.multiprocessors)
            k[v] = f
        }
        kernels = k
        self.maxBlocks = max(1, min(maxBlocks, resident))
        recvOffset = (maxBytesPerRank + 4095) / 4096 * 4096
        window = try NCCLDeviceWindow(api: api, comm: comm, bytes: 2 * recvOffset, lsaBarriers: self.maxBlocks)
        guard window.lsaSize == comm.size else {
            throw NCCLDeviceUnavailable(reason: "NCCL's load/store team has \(window.lsaSize) of \(comm.size) ranks: the LSA all-to-all needs every rank reachable by NVLink/P2P")
        }
        send = window.view(offset: 0, bytes: maxBytesPerRank)
        recv = window.view(offset: recvOffset, bytes: maxBytesPerRank)
    }

    /// Why `bytesPerRank` cannot be sent, or nil.
    public func problem(bytesPerRank: Int, blocks: Int) -> String? {
        if bytesPerRank <= 0 || bytesPerRank > maxBytesPerRank { return "size \(bytesPerRank) B is outside 1...\(maxBytesPerRank)" }
        if bytesPerRank % comm.size != 0 { return "size \(bytesPerRank) B does not divide among \(comm.size) ranks" }
        if blocks < 1 || blocks > maxBlocks { return "blocks \(blocks) is outside 1...\(maxBlocks)" }
        return nil
    }

    /// Marshalled arguments for one size (build them before a timed loop).
    public func arguments(bytesPerRank: Int) -> KernelArguments {
        KernelArguments([window.devCommArgument, window.window, UInt64(0), UInt64(recvOffset), UInt64(bytesPerRank / comm.size)])
    }

    /// Enqueues one complete all-to-all of `bytesPerRank` (nccl-tests' size) on `stream`: when it
    /// has run on this rank, everything the peers sent is in `recv`.
    public func enqueue(bytesPerRank: Int, stream: Stream, kernel: NCCLDeviceAlltoallKernel = .optimized, blocks: Int? = nil) throws {
        try enqueue(arguments(bytesPerRank: bytesPerRank), bytesPerRank: bytesPerRank, stream: stream, kernel: kernel, blocks: blocks)
    }

    /// `enqueue` with arguments from `arguments(bytesPerRank:)`.
    public func enqueue(_ args: KernelArguments, bytesPerRank: Int, stream: Stream, kernel: NCCLDeviceAlltoallKernel, blocks: Int?) throws {
        let b = blocks ?? defaultBlocks(bytesPerRank: bytesPerRank)
        if let p = problem(bytesPerRank: bytesPerRank, blocks: b) { throw BadAlltoallRequest(description: "NCCL device all-to-all: \(p)") }
        try kernels[kernel]!.launch(grid: b, block: NCCLDeviceAlltoall.threadsPerBlock, stream: stream, arguments: args)
    }

    /// 32 blocks per rank from 32 MiB per rank, 16 below, within `maxBlocks`: on 4×H200 (-D 2,
    /// blocks 4–128) 128 blocks were best from 64 MiB (345 GB/s busbw at 256 MiB, 354 at 1 GiB,
    /// against 315 with 32) and 64 at 16 MiB (bench/results/2026-11-21-4xH200-session2/nccl-device/).
    public func defaultBlocks(bytesPerRank: Int) -> Int {
        min(maxBlocks, bytesPerRank >= 32 << 20 ? Self.largestDefaultBlocks(ranks: comm.size) : 16 * comm.size)
    }

    /// The most `defaultBlocks` picks for `ranks` ranks (32 per rank) before the `maxBlocks` cap:
    /// the `maxBlocks` to ask `init` for where the default will be used.
    public static func largestDefaultBlocks(ranks: Int) -> Int { 32 * ranks }
}

/// `enqueue` was asked for a size or grid the all-to-all was not set up for.
public struct BadAlltoallRequest: Error, CustomStringConvertible, Sendable {
    public var description: String
}
