import Driver
import Collectives
import GPU
import Kernels

/// One copy of a copy-engine all-to-all: `bytes` from rank `src`'s send buffer at `sendOffset`
/// (inside its block `dst`) into rank `dst`'s receive buffer at `recvOffset` (inside its block
/// `src`), in round `round`, on copy stream `lane` of rank `issuer`'s GPU.
struct PairCopy: Equatable, Sendable {
    var src: Int
    var dst: Int
    var issuer: Int
    var round: Int
    var lane: Int
    var sendOffset: Int
    var recvOffset: Int
    var bytes: Int
    /// Moved by an SM kernel on the issuing GPU instead of a copy engine (`smPercent`).
    var bySM = false
}

/// The copies of one copy-engine all-to-all (pure: tested without a GPU). `cuda-ce-1p` issues all
/// of them from one process; `CopyFanout` (nvshmem-ce, cuda-ce) issues those of its own GPU.
enum CopyPlan {
    /// Every copy of one all-to-all of `bpp` bytes per peer over `n` ranks, each block in `split`
    /// pieces (`CopyFanout.piece`), in issue order: round k, then issuing GPU g, then piece i.
    /// In round k a pushing GPU g sends to (g + k) mod n and a pulling GPU g receives from
    /// (g − k) mod n: the same (source, destination) pairs per round either way, every GPU busy with
    /// a different peer at once, and round 0 is the local block.
    /// Lanes (`lanes(ranks:split:rounds:)` of them): with `.parallel` rounds, lane k × split + i, so
    /// every (issuer, lane) occurs once and all rounds run at once; with `.serial`, the local block
    /// on lanes 0..<split and every other round's piece i on lane split + i, one round after another.
    ///
    /// `smPercent` > 0 (cuda-ce-1p): the last `smBytes(bpp, smPercent)` bytes of every peer's block
    /// go to one more copy, `bySM`, on the extra last lane (`lanes`), after the copy-engine pieces
    /// of the same round; the copy engines move the rest.
    static func copies(ranks n: Int, split: Int, bytesPerPeer bpp: Int, mode: CopyMode, rounds: CopyRounds = .parallel,
                       smPercent: Int = 0) -> [PairCopy] {
        precondition(n >= 1 && split >= 1 && bpp >= 0 && (0...100).contains(smPercent))
        var out: [PairCopy] = []
        out.reserveCapacity(n * n * (split + 1))
        let sm = smBytes(bpp, smPercent)
        let smLane = lanes(ranks: n, split: split, rounds: rounds)
        for k in 0..<n {
            for g in 0..<n {
                let (s, d) = mode == .push ? (g, (g + k) % n) : ((g - k + n) % n, g)
                let ce = k == 0 ? bpp : bpp - sm
                for i in 0..<split {
                    let r = CopyFanout.piece(i, of: split, bytes: ce)
                    let lane = rounds == .serial && k > 0 ? split + i : k * split + i
                    out.append(PairCopy(src: s, dst: d, issuer: g, round: k, lane: lane,
                                        sendOffset: d * bpp + r.lowerBound, recvOffset: s * bpp + r.lowerBound, bytes: r.count))
                }
                if k > 0 && smPercent > 0 {
                    out.append(PairCopy(src: s, dst: d, issuer: g, round: k, lane: smLane,
                                        sendOffset: d * bpp + ce, recvOffset: s * bpp + ce, bytes: sm, bySM: true))
                }
            }
        }
        return out
    }

    /// Per copy of `plan`: whether it is the first, and the last, on its stream (issuer, lane) in
    /// issue order. A stream waits for its fork only before its first copy and records its join
    /// only after its last: stream order covers the copies between.
    static func laneEnds(_ plan: [PairCopy]) -> (first: [Bool], last: [Bool]) {
        var first = [Bool](repeating: false, count: plan.count), last = first
        var seen = Set<[Int]>()
        for (i, p) in plan.enumerated() where seen.insert([p.issuer, p.lane]).inserted { first[i] = true }
        seen.removeAll()
        for (i, p) in plan.enumerated().reversed() where seen.insert([p.issuer, p.lane]).inserted { last[i] = true }
        return (first, last)
    }

    /// Bytes of a peer's block an SM kernel moves at `percent`: rounded down to 16 bytes.
    static func smBytes(_ bpp: Int, _ percent: Int) -> Int { bpp * percent / 100 / 16 * 16 }

    /// Copy streams per GPU that `copies` uses (one more with `smPercent` > 0).
    static func lanes(ranks n: Int, split: Int, rounds: CopyRounds, smPercent: Int = 0) -> Int {
        (rounds == .serial ? min(n, 2) * split : n * split) + (smPercent > 0 ? 1 : 0)
    }
}

/// The copy-engine fan-out both copy backends share, one `cuMemcpyDtoDAsync` per piece, each
/// piece on its own stream so the driver can spread them over the copy engines; no SM moves data.
/// Push: this PE's block for each peer is copied straight into that peer's receive buffer (mapped
/// into this process). Pull: this PE copies its block of each peer's send buffer (mapped here)
/// into its own receive buffer.
///
/// Ordering: the copy streams wait for everything enqueued before on the main stream (the
/// previous iteration's closing barrier, so no copy of iteration i + 1 starts before every PE
/// finished iteration i); the main stream then waits for every copy, and the caller enqueues a
/// barrier across PEs after them: when it completes, every PE's copies into this PE have completed.
final class CopyFanout {
    let pes: Int
    let me: Int
    let split: Int
    let mode: CopyMode
    let streams: [Stream]
    let fork: Event
    let joins: [Event]
    /// This PE's copies (`CopyPlan`, issuer == me) for the last size prepared, and their lanes'
    /// ends (`CopyPlan.laneEnds`).
    private var plan: (bytesPerPeer: Int, copies: [PairCopy], ends: (first: [Bool], last: [Bool]))?

    let rounds: CopyRounds

    init(device: Device, pe me: Int, pes: Int, split: Int, mode: CopyMode, rounds: CopyRounds) throws {
        precondition(split >= 1)
        self.me = me; self.pes = pes; self.split = split; self.mode = mode; self.rounds = rounds
        streams = try (0..<CopyPlan.lanes(ranks: pes, split: split, rounds: rounds)).map { _ in try Stream(device: device) }
        fork = try Event(device: device, timing: false)
        joins = try streams.map { _ in try Event(device: device, timing: false) }
    }

    /// Piece `i` of `n` of a block of `bytes`: 16-byte aligned offsets, the last piece takes the rest.
    static func piece(_ i: Int, of n: Int, bytes: Int) -> Range<Int> {
        let per = (bytes / n + 15) / 16 * 16
        let lo = min(bytes, i * per), hi = i == n - 1 ? bytes : min(bytes, lo + per)
        return lo..<hi
    }

    /// Builds this PE's copies for `bpp` bytes per peer, unless the last size was the same.
    func prepare(bytesPerPeer bpp: Int) {
        guard plan?.bytesPerPeer != bpp else { return }
        let copies = CopyPlan.copies(ranks: pes, split: split, bytesPerPeer: bpp, mode: mode, rounds: rounds).filter { $0.issuer == me }
        plan = (bpp, copies, CopyPlan.laneEnds(copies))
    }

    /// Enqueues the copies of one all-to-all of `bpp` bytes per peer, joined back into `main`.
    /// Push: from `send` into `remote[peer]` (each peer's receive buffer as mapped here). Pull:
    /// from `remote[peer]` (each peer's send buffer as mapped here) into `recv`.
    func enqueue(send: DeviceAddress, recv: DeviceAddress, remote: [DeviceAddress], bytesPerPeer bpp: Int, main: Stream) throws {
        prepare(bytesPerPeer: bpp)  // normally done already, outside any timed loop
        let ends = plan!.ends
        try fork.record(on: main)
        for (i, c) in plan!.copies.enumerated() {
            let q = streams[c.lane]
            if ends.first[i] { try q.wait(for: fork) }
            if c.bytes > 0 {
                // Push: our send buffer into the peer's receive buffer; pull: the peer's send buffer into ours.
                let from = (mode == .push ? send : remote[c.src]) + c.sendOffset
                let to = (mode == .push ? remote[c.dst] : recv) + c.recvOffset
                try q.copy(from: from, to: to, bytes: c.bytes)
            }
            if ends.last[i] {
                try joins[c.lane].record(on: q)
                try main.wait(for: joins[c.lane])
            }
        }
    }

    var labels: [String: String] { ["streams": String(streams.count), "copy_split": String(split), "copy_mode": mode.rawValue, "copy_rounds": rounds.rawValue] }
}

/// `cuda-ce`: the all-to-all by copy engines over CUDA IPC, with no communication library: plain
/// `cuMemAlloc` buffers whose IPC handles every PE maps (each peer's receive buffer to push, its
/// send buffer to pull), the copies of `CopyFanout`, then gc_ipc_barrier_next (cuda/ipc_barrier.cu)
/// on the stream. Needs every PE on one host with peer access.
final class CUDACopyEngineAlltoall: AlltoallBackend {
    let kind = BackendKind.cudaCE
    let send: DeviceBuffer
    let recv: DeviceBuffer
    let flags: DeviceBuffer
    /// Device array of every PE's flag address as mapped here.
    let flagsOf: DeviceBuffer
    /// gc_ipc_barrier_next's epoch counter (zeroed once).
    let count: DeviceBuffer
    let mappings: [IPCMapping]
    /// Every PE's receive buffer (push) or send buffer (pull) as mapped here.
    let remote: [DeviceAddress]
    let fanout: CopyFanout
    let barrier: Kernel
    /// The barrier's arguments, the same at every launch.
    let barrierArguments: KernelArguments

    /// Collective: every rank calls it (it exchanges IPC handles over `channel`).
    init(context c: BackendContext, channel: JobChannel) throws {
        let d = c.device
        var local: (DeviceBuffer, DeviceBuffer, DeviceBuffer, [UInt8])?
        var problem = ""
        do {
            let s = try DeviceBuffer(device: d, bytes: c.maxBytesPerRank)
            let r = try DeviceBuffer(device: d, bytes: c.maxBytesPerRank)
            let f = try DeviceBuffer(device: d, bytes: 8 * c.ranks)
            try f.fill(byte: 0, on: c.stream)
            try c.stream.synchronize()
            // "+", the buffer peers copy into (push) or out of (pull), then the flags: the marker
            // keeps a handle whose first byte happens to be "!" from reading as a failure.
            local = (s, r, f, try [UInt8(ascii: "+")] + (c.kernel.copyMode == .push ? r : s).ipcHandle() + f.ipcHandle())
        } catch { problem = "\(error)" }
        // Every rank sends something, so a failure on one rank cannot leave the others waiting.
        let all = try channel.allGather(local?.3 ?? Array(("!" + problem).utf8))
        if let bad = all.first(where: { $0.first == UInt8(ascii: "!") }) {
            throw BackendUnavailable(kind: .cudaCE, reason: String(decoding: bad.dropFirst(), as: UTF8.self))
        }
        let (s, r, f, _) = local!  // nil only if this rank sent a problem, and then one was thrown above
        send = s; recv = r; flags = f
        var maps: [IPCMapping] = []
        var buffers: [DeviceAddress] = [], flagAddrs: [UInt64] = []
        for p in 0..<c.ranks {
            if p == c.rank { buffers.append(c.kernel.copyMode == .push ? r.address : s.address); flagAddrs.append(UInt64(f.address)); continue }
            let h = all[p]
            let mb = try IPCMapping(device: d, handle: Array(h[1..<65]))
            let mf = try IPCMapping(device: d, handle: Array(h[65..<129]))
            maps += [mb, mf]
            buffers.append(mb.address); flagAddrs.append(UInt64(mf.address))
        }
        mappings = maps
        remote = buffers
        flagsOf = try DeviceBuffer(device: d, bytes: 8 * c.ranks)
        try flagsOf.copyFromHost(flagAddrs.flatMap { v in withUnsafeBytes(of: v) { Array($0) } })
        count = try DeviceBuffer(device: d, bytes: 8)
        try count.copyFromHost([UInt8](repeating: 0, count: 8))
        let k = KernelSources.ipcBarrier
        let module = try Module(device: d, image: try c.compiler.cubin(for: CompileRequest(name: k.name, source: k.source, arch: d.arch).with(headers: k.headers)))
        barrier = try module.function("gc_ipc_barrier_next")
        barrierArguments = KernelArguments([UInt64(flagsOf.address), UInt64(f.address), Int32(c.rank), Int32(c.ranks), UInt64(count.address)])
        fanout = try CopyFanout(device: d, pe: c.rank, pes: c.ranks, split: c.kernel.copySplit, mode: c.kernel.copyMode, rounds: c.kernel.copyRounds)
        try channel.barrier()
    }

    func prepare(bytesPerRank: Int) throws { fanout.prepare(bytesPerPeer: bytesPerRank / fanout.pes) }

    func enqueue(bytesPerRank: Int, stream: Stream) throws {
        try fanout.enqueue(send: send.address, recv: recv.address, remote: remote, bytesPerPeer: bytesPerRank / fanout.pes, main: stream)
        try barrier.launch(grid: 1, block: 32 * ((fanout.pes + 31) / 32), stream: stream, arguments: barrierArguments)
    }

    func labels(bytesPerRank: Int) -> [String: String] { fanout.labels }
}
