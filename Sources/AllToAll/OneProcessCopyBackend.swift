import Driver
import Collectives
import GPU

/// `cuda-ce-1p`: the copy-engine all-to-all with every copy issued by rank 0's process for every
/// GPU of the host, on buffers rank 0 allocates on every GPU (`OneProcessIssuer`; the other ranks
/// map theirs by CUDA IPC to fill and check). Rank 0 enqueues one `cuMemcpyDtoDAsync` per
/// (source, destination) pair and piece (`CopyPlan`) on streams of the destination GPU
/// (`--copy-mode pull`, the default) or the source GPU (push), ordered across GPUs as `CopySync`
/// says: rank 0's stream passes the all-to-all only when every copy has completed, and the next
/// all-to-all's copies start only after that, so all-to-alls are fully ordered. The other ranks'
/// `enqueue` does nothing; timing takes rank 0's clock (`issuedByOneRank`).
final class OneProcessCopyAlltoall: AlltoallBackend {
    let kind = BackendKind.cudaCE1P
    let send: DeviceBuffer
    let recv: DeviceBuffer
    let ranks: Int
    /// The copy knobs (`copySplit`, `copyMode`, `copySync`, `copyRounds`, `copyLocal`, `copySMPercent`).
    let options: KernelOptions
    /// Rank 0 only.
    let issuer: OneProcessIssuer?
    /// Rank 0: the last size prepared.
    var plan: IssuerPlan?
    var issuedByOneRank: Bool { true }

    /// Collective: every rank calls it; every rank returns, or every rank throws `BackendUnavailable`.
    /// Three rounds over the job channel: every rank's host and GPU; rank 0's handles (or why it
    /// failed); every rank's success in mapping its pair.
    init(context c: BackendContext, channel: JobChannel) throws {
        let d = c.device
        ranks = c.ranks
        options = c.kernel
        let mine = OneProcessAdvert(host: OneProcessAdvert.thisHost(), pciBusId: d.pciBusId).encoded()
        // Every rank sends something, so a failure on one rank cannot leave the others waiting.
        let all = try channel.allGather(mine).map(OneProcessAdvert.decode)
        if let why = OneProcessAdvert.problem(all) { throw BackendUnavailable(kind: .cudaCE1P, reason: why) }
        // Advert k must be rank k's: one GPU per process (alltoall refuses -g other than 1).
        if all.count != c.ranks { throw BackendUnavailable(kind: .cudaCE1P, reason: "\(all.count) processes for \(c.ranks) ranks: needs one GPU per process") }
        var made: OneProcessIssuer?
        var message: [UInt8] = []
        if c.rank == 0 {
            do {
                let m = try OneProcessIssuer(context: c, adverts: all.map { try $0.get() })
                message = try m.handles(me: c.rank)
                made = m
            } catch let u as BackendUnavailable { message = OneProcessHandles.failure(u.reason) } catch { message = OneProcessHandles.failure("rank 0: \(error)") }
        }
        let answer = try channel.allGather(message)[0]
        var maps: [IPCMapping] = []
        var problem = ""
        if c.rank != 0 {
            switch OneProcessHandles.decode(answer, rank: c.rank, ranks: c.ranks) {
            case .failure(let p): problem = p.text
            case .success(let h):
                do { maps = [try IPCMapping(device: d, handle: h.send), try IPCMapping(device: d, handle: h.recv)] } catch { problem = "rank \(c.rank): \(error)" }
            }
        } else if answer.first == UInt8(ascii: "!") {
            problem = String(decoding: answer.dropFirst(), as: UTF8.self)
        }
        let outcome = try channel.allGather(Array(problem.utf8))
        if let bad = outcome.first(where: { !$0.isEmpty }) {
            throw BackendUnavailable(kind: .cudaCE1P, reason: String(decoding: bad, as: UTF8.self))
        }
        issuer = made
        if let made {
            send = made.sends[c.rank]; recv = made.recvs[c.rank]
        } else {
            // The other ranks' views of the buffers rank 0 allocated on their GPUs; each keeps its
            // mapping alive as long as the backend's buffer.
            let ms = maps[0], mr = maps[1]
            send = DeviceBuffer(device: d, adopting: ms.address, bytes: c.maxBytesPerRank) { _ in withExtendedLifetime(ms) {} }
            recv = DeviceBuffer(device: d, adopting: mr.address, bytes: c.maxBytesPerRank) { _ in withExtendedLifetime(mr) {} }
        }
    }

    func prepare(bytesPerRank: Int) throws {
        guard let issuer, plan?.key != bytesPerRank else { return }  // ranks other than 0 enqueue nothing
        let o = options
        let copies = CopyPlan.copies(ranks: ranks, split: o.copySplit, bytesPerPeer: bytesPerRank / ranks, mode: o.copyMode, rounds: o.copyRounds,
                                     smPercent: o.copySMPercent)
        plan = try issuer.prepare(copies, key: bytesPerRank)
    }

    func enqueue(bytesPerRank: Int, stream: Stream) throws {
        guard let issuer else { return }  // ranks other than 0: rank 0 moves their bytes
        try prepare(bytesPerRank: bytesPerRank)  // normally done already, outside any timed loop
        try issuer.enqueue(plan!, main: stream)
    }

    func labels(bytesPerRank: Int) -> [String: String] {
        let o = options
        return ["streams": String(CopyPlan.lanes(ranks: ranks, split: o.copySplit, rounds: o.copyRounds, smPercent: o.copySMPercent)),
                "copy_split": String(o.copySplit), "copy_mode": o.copyMode.rawValue, "copy_sync": o.copySync.rawValue,
                "copy_rounds": o.copyRounds.rawValue, "copy_local": o.copyLocal.rawValue, "copy_sm_percent": String(o.copySMPercent)]
            .merging(issuer?.trace?.summary() ?? [:]) { a, _ in a }
    }
}
