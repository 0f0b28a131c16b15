#if canImport(Glibc)
import Glibc
#endif
import CGPU
import Collectives
import GPU

/// Which GPU's streams issue the copies of `cuda-ce-1p`: a measuring knob, `GPUCOMM_CE_ISSUER=src|dst`
/// (as `GPUCOMM_JACOBI_FUSED_GRID` in Jacobi/Stencil.swift). Push is the default and what the
/// team's one-process figures (356 GB/s at 256 MiB per rank) used: a copy engine of the source
/// GPU reads locally and writes over NVLink. Pull runs it on the destination's copy engines.
public enum CopyIssuer: String, Sendable, CaseIterable {
    /// Push: the copy runs on a stream (and the copy engines) of the source GPU.
    case src
    /// Pull: on a stream of the destination GPU.
    case dst

    public static let variable = "GPUCOMM_CE_ISSUER"

    /// The issuer `environment` asks for: `src` when unset or empty, nil for anything but src or dst.
    public static func from(environment env: [String: String]) -> CopyIssuer? {
        guard let v = env[variable], !v.isEmpty else { return .src }
        return CopyIssuer(rawValue: v)
    }
}

/// One copy of `cuda-ce-1p`: `bytes` from rank `src`'s send buffer at `sendOffset` (inside its
/// block `dst`) into rank `dst`'s receive buffer at `recvOffset` (inside its block `src`), on copy
/// stream `lane` of rank `issuer`'s GPU.
struct PairCopy: Equatable, Sendable {
    var src: Int
    var dst: Int
    var issuer: Int
    var lane: Int
    var sendOffset: Int
    var recvOffset: Int
    var bytes: Int
}

/// The copies of one all-to-all issued by one process for every GPU (pure: tested without a GPU).
enum OneProcessCopyPlan {
    /// Every copy of one all-to-all of `bpp` bytes per peer over `n` ranks, each block in `split`
    /// pieces (`CopyFanout.piece`), in issue order: round k, then issuing GPU g, then piece i.
    /// In round k a pushing GPU g sends to (g + k) mod n and a pulling GPU g receives from
    /// (g − k) mod n: the same (source, destination) pairs per round either way, every GPU busy with
    /// a different peer at once, and round 0 is the local block. Lane k × split + i: every
    /// (issuer, lane) occurs once, so each copy stream carries one copy per all-to-all.
    static func copies(ranks n: Int, split: Int, bytesPerPeer bpp: Int, issuer: CopyIssuer) -> [PairCopy] {
        precondition(n >= 1 && split >= 1 && bpp >= 0)
        var out: [PairCopy] = []
        out.reserveCapacity(n * n * split)
        for k in 0..<n {
            for g in 0..<n {
                let (s, d) = issuer == .src ? (g, (g + k) % n) : ((g - k + n) % n, g)
                for i in 0..<split {
                    let r = CopyFanout.piece(i, of: split, bytes: bpp)
                    out.append(PairCopy(src: s, dst: d, issuer: g, lane: k * split + i,
                                        sendOffset: d * bpp + r.lowerBound, recvOffset: s * bpp + r.lowerBound, bytes: r.count))
                }
            }
        }
        return out
    }
}

/// What each rank tells the others when `cuda-ce-1p` is built: its buffers' IPC handles, its host
/// and its GPU; or, starting with `!`, why it could not allocate them.
struct OneProcessAdvert: Equatable, Sendable {
    static let handleBytes = 64  // sizeof(CUipcMemHandle)
    var send: [UInt8]
    var recv: [UInt8]
    /// Host name and kernel boot id: equal only for processes of one machine (containers included).
    var host: String
    /// As `cuDeviceGetPCIBusId` prints it.
    var pciBusId: String

    func encoded() -> [UInt8] {
        precondition(send.count == Self.handleBytes && recv.count == Self.handleBytes)
        return [UInt8(ascii: "+")] + send + recv + Array("\(host)\n\(pciBusId)".utf8)
    }

    static func failure(_ why: String) -> [UInt8] { Array(("!" + why).utf8) }

    /// A rank's advert, or its problem.
    static func decode(_ b: [UInt8]) -> Result<OneProcessAdvert, Problem> {
        let h = handleBytes
        guard b.first == UInt8(ascii: "+"), b.count > 1 + 2 * h else {
            return .failure(Problem(text: b.first == UInt8(ascii: "!") ? String(decoding: b.dropFirst(), as: UTF8.self) : "malformed advert (\(b.count) bytes)"))
        }
        let tail = String(decoding: b[(1 + 2 * h)...], as: UTF8.self)
        guard let nl = tail.lastIndex(of: "\n") else { return .failure(Problem(text: "advert without a PCI bus id")) }
        return .success(OneProcessAdvert(send: Array(b[1..<1 + h]), recv: Array(b[1 + h..<1 + 2 * h]),
                                         host: String(tail[..<nl]), pciBusId: String(tail[tail.index(after: nl)...])))
    }

    struct Problem: Error, Equatable { var text: String }

    /// Why the job cannot run `cuda-ce-1p`, decided from every rank's advert (the same on every rank), or nil.
    static func problem(_ all: [Result<OneProcessAdvert, Problem>]) -> String? {
        for (k, a) in all.enumerated() { if case .failure(let p) = a { return "rank \(k): \(p.text)" } }
        let hosts = all.map { (try? $0.get())?.host ?? "" }
        if let k = hosts.firstIndex(where: { $0 != hosts[0] }) {
            return "ranks on more than one host (rank 0: \(hosts[0]), rank \(k): \(hosts[k])): one process can drive only its own host's GPUs"
        }
        return nil
    }

    /// This machine: host name and the kernel's boot id (two hosts may share a container's host name).
    static func thisHost() -> String {
        func text(_ b: [CChar]) -> String {
            String(decoding: b.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count - 1) == 0 ? text(name) : "?"
        var boot = "?"
        if let f = fopen("/proc/sys/kernel/random/boot_id", "r") {
            var b = [CChar](repeating: 0, count: 64)
            if fgets(&b, Int32(b.count), f) != nil { boot = text(b) }
            fclose(f)
        }
        return "\(host) boot \(boot)"
    }
}

/// Rank 0's side of `cuda-ce-1p`: a `Device` for every rank's GPU in this process (matched by PCI
/// bus id), peer access between all of them, every other rank's buffers mapped into the context of
/// every GPU that issues copies, and copy streams and join events on every GPU.
///
/// Where each buffer is mapped: a copy runs on a stream of the issuing GPU g, and both of its
/// pointers must belong to g's context. Rank k's send and receive buffers are therefore opened
/// (`cuIpcOpenMemHandle`, lazy peer access) in this process's primary context of every GPU g
/// (CUDA allows one importing context per device, which this respects); rank 0's own buffers are
/// native allocations, reachable from every other context through `cuCtxEnablePeerAccess`.
/// Measured on 4×H200 (session 4, call 3): with each rank's buffers opened only in its own GPU's
/// context, every copy crossed contexts through IPC memory and ran at ~42 GB/s busbw, as if staged.
final class OneProcessIssuer {
    /// Per rank: its GPU in this process.
    let devices: [Device]
    /// [issuing rank's GPU][rank]: that rank's buffers as addresses valid in the issuer's context.
    let sendOf: [[CUdeviceptr]]
    let recvOf: [[CUdeviceptr]]
    let mappings: [IPCMapping]
    /// Per rank (its GPU): `ranks × split` copy streams and their join events.
    let streams: [[Stream]]
    let joins: [[Event]]
    /// Recorded on rank 0's stream; every copy stream waits for it (`cuStreamWaitEvent` takes an
    /// event of another device: "hEvent may be from a different context or device than hStream").
    let fork: Event

    init(context c: BackendContext, adverts: [OneProcessAdvert], send: DeviceBuffer, recv: DeviceBuffer) throws {
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
        var maps: [IPCMapping] = []
        var sends: [[CUdeviceptr]] = [], recvs: [[CUdeviceptr]] = []
        for g in devs.indices {
            var ss: [CUdeviceptr] = [], rr: [CUdeviceptr] = []
            for (k, a) in adverts.enumerated() {
                if k == c.rank { ss.append(send.address); rr.append(recv.address); continue }
                let ms = try IPCMapping(device: devs[g], handle: a.send)
                let mr = try IPCMapping(device: devs[g], handle: a.recv)
                maps += [ms, mr]
                ss.append(ms.address); rr.append(mr.address)
            }
            sends.append(ss); recvs.append(rr)
        }
        devices = devs; mappings = maps; sendOf = sends; recvOf = recvs
        let lanes = c.ranks * c.kernel.copySplit
        streams = try devs.map { d in try (0..<lanes).map { _ in try Stream(device: d) } }
        joins = try devs.map { d in try (0..<lanes).map { _ in try Event(device: d, timing: false) } }
        fork = try Event(device: c.device, timing: false)
        try c.device.makeCurrent()
    }

    /// Enqueues `plan` after everything before on `main` (rank 0's stream) and joins every copy back into it.
    func enqueue(_ plan: [PairCopy], main: Stream) throws {
        defer { try? main.device.makeCurrent() }  // the callers' kernels and events assume rank 0's context
        try main.device.makeCurrent()
        try fork.record(on: main)
        var current = main.device
        for p in plan {
            let q = streams[p.issuer][p.lane]
            if q.device !== current { try q.device.makeCurrent(); current = q.device }
            try q.wait(for: fork)
            if p.bytes > 0 {
                let src = UnsafeRawPointer(bitPattern: UInt(sendOf[p.issuer][p.src]) + UInt(p.sendOffset))!
                let dst = UnsafeMutableRawPointer(bitPattern: UInt(recvOf[p.issuer][p.dst]) + UInt(p.recvOffset))!
                try q.copy(from: src, to: dst, bytes: p.bytes)
            }
            try joins[p.issuer][p.lane].record(on: q)
        }
        try main.device.makeCurrent()
        for j in joins.joined() { try main.wait(for: j) }
    }
}

/// `cuda-ce-1p`: the copy-engine all-to-all with every copy issued by rank 0's process for every
/// GPU of the host, to tell whether the issuing layout (one process, peer access between its
/// contexts) or the IPC-mapped memory explains cuda-ce's gap to the one-process figures. Each
/// rank's `cuMemAlloc` buffers are IPC-mapped into rank 0 (`OneProcessIssuer`); rank 0 enqueues one
/// `cuMemcpyDtoDAsync` per (source, destination) pair and piece (`OneProcessCopyPlan`) on streams of
/// the source GPU (`GPUCOMM_CE_ISSUER=dst`: the destination's), forked from and joined back into
/// its own stream by events. No barrier kernel: rank 0's stream waits for every copy, and the next
/// all-to-all's copies wait for its fork, so all-to-alls are fully ordered. The other ranks'
/// `enqueue` does nothing; timing takes rank 0's clock (`issuedByOneRank`).
final class OneProcessCopyAlltoall: AlltoallBackend {
    let kind = BackendKind.cudaCE1P
    let send: DeviceBuffer
    let recv: DeviceBuffer
    let ranks: Int
    let split: Int
    let issuerKind: CopyIssuer
    /// Rank 0 only.
    let issuer: OneProcessIssuer?
    var plan: (bytesPerRank: Int, copies: [PairCopy])?
    var issuedByOneRank: Bool { true }

    /// Collective: every rank calls it; every rank returns, or every rank throws `BackendUnavailable`.
    init(context c: BackendContext, channel: JobChannel) throws {
        let d = c.device
        ranks = c.ranks
        split = c.kernel.copySplit
        var local: (DeviceBuffer, DeviceBuffer, [UInt8])?
        var problem = ""
        let env = getenv(CopyIssuer.variable).map { [CopyIssuer.variable: String(cString: $0)] } ?? [:]
        let chosen = CopyIssuer.from(environment: env)
        issuerKind = chosen ?? .src
        if chosen == nil {
            problem = "\(CopyIssuer.variable) must be src or dst (got '\(env[CopyIssuer.variable] ?? "")')"
        } else {
            do {
                let s = try DeviceBuffer(device: d, bytes: c.maxBytesPerRank)
                let r = try DeviceBuffer(device: d, bytes: c.maxBytesPerRank)
                let advert = OneProcessAdvert(send: try s.ipcHandle(), recv: try r.ipcHandle(),
                                              host: OneProcessAdvert.thisHost(), pciBusId: d.pciBusId)
                local = (s, r, advert.encoded())
            } catch { problem = "\(error)" }
        }
        // Every rank sends something, so a failure on one rank cannot leave the others waiting.
        let all = try channel.allGather(local?.2 ?? OneProcessAdvert.failure(problem)).map(OneProcessAdvert.decode)
        if let why = OneProcessAdvert.problem(all) { throw BackendUnavailable(kind: .cudaCE1P, reason: why) }
        // Advert k must be rank k's: one GPU per process (alltoall refuses -g other than 1).
        if all.count != c.ranks { throw BackendUnavailable(kind: .cudaCE1P, reason: "\(all.count) processes for \(c.ranks) ranks: needs one GPU per process") }
        guard let (s, r, _) = local else { throw BackendUnavailable(kind: .cudaCE1P, reason: problem) }
        send = s; recv = r
        // Rank 0 opens the GPUs and mappings; it tells everyone whether that worked (a second round,
        // so no rank returns a backend that rank 0 could not build).
        var made: OneProcessIssuer?
        var failed = ""
        if c.rank == 0 {
            do {
                made = try OneProcessIssuer(context: c, adverts: all.map { try $0.get() }, send: s, recv: r)
            } catch let u as BackendUnavailable { failed = u.reason } catch { failed = "rank 0: \(error)" }
        }
        let outcome = try channel.allGather(Array(failed.utf8))
        if let bad = outcome.first(where: { !$0.isEmpty }) {
            throw BackendUnavailable(kind: .cudaCE1P, reason: String(decoding: bad, as: UTF8.self))
        }
        issuer = made
    }

    func prepare(bytesPerRank: Int) throws {
        if plan?.bytesPerRank != bytesPerRank {
            plan = (bytesPerRank, OneProcessCopyPlan.copies(ranks: ranks, split: split, bytesPerPeer: bytesPerRank / ranks, issuer: issuerKind))
        }
    }

    func enqueue(bytesPerRank: Int, stream: Stream) throws {
        guard let issuer else { return }  // ranks other than 0: rank 0 moves their bytes
        try prepare(bytesPerRank: bytesPerRank)
        try issuer.enqueue(plan!.copies, main: stream)
    }

    func labels(bytesPerRank: Int) -> [String: String] {
        ["streams": String(ranks * split), "copy_split": String(split), "issuer": issuerKind.rawValue]
    }
}
