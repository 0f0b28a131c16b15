// The job's control channel after the rendezvous: small collectives through rank 0, and liveness.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The control channel of a multi-process job, from the rendezvous to the job's end.
///
/// Rank 0 holds one TCP connection to every other rank. Collectives (`broadcast`, `allGather`, `barrier`)
/// go through rank 0 and must be called by every rank in the same order. A watcher thread per process
/// sends heartbeats and watches the connections: when a rank dies (its connection closes without a
/// goodbye) or stops answering for the liveness timeout, every rank runs `onAbort`, prints
/// `gpucomm: rank r on h died: …` on stderr and exits with status 6. The exit comes from the watcher
/// because the main thread may be stuck inside an NCCL call that only the process's end can stop.
/// Call `close()` before a normal exit, or the other ranks will take the exit for a death. Call the
/// collectives from one thread at a time.
public final class RankGroup: @unchecked Sendable {
    /// This process's rank.
    public let rank: Int
    /// Number of ranks in the job.
    public let size: Int
    /// Host name of every rank, by rank.
    public let hosts: [String]
    /// Process id of every rank, by rank.
    public let pids: [Int]
    private let session: Session

    init(rank: Int, size: Int, peers: [Message.Peer], session: Session) {
        self.rank = rank
        self.size = size
        self.hosts = peers.map(\.host)
        self.pids = peers.map(\.pid)
        self.session = session
    }

    deinit { session.close() }

    /// Joins the job: rank 0 listens on `bind`:port of `info.rendezvous` and waits for every other rank;
    /// the others connect to it. Fails with `LaunchError.timeout` naming the missing ranks when `timeout`
    /// passes, `wrongToken`/`refused` when rank 0 turns this rank away.
    ///
    /// - Parameters:
    ///   - bind: the address rank 0 listens on (`0.0.0.0` all IPv4 interfaces, `::` all, or one address).
    ///   - timeout: bound on the rendezvous, and the liveness timeout unless `liveness` is given.
    ///   - liveness: how long a silent rank is tolerated after the join before the job ends.
    ///   - onAbort: runs on the watcher thread just before the process exits because a rank died
    ///     (close the results file there).
    ///   - abortsProcess: false turns the exit into errors thrown by the waiting collective (for embedding
    ///     and tests); the default true is what a benchmark rank wants.
    public static func join(_ info: RankInfo, bind: String = "0.0.0.0", timeout: Duration,
                            liveness: Duration? = nil, onAbort: (@Sendable () -> Void)? = nil,
                            abortsProcess: Bool = true) throws(LaunchError) -> RankGroup {
        guard info.worldSize >= 1, info.rank >= 0, info.rank < info.worldSize else {
            throw .badEnvironment("rank \(info.rank) is outside 0..<\(info.worldSize)")
        }
        let policy = Session.Policy(heartbeat: min(1.0, max(0.05, (liveness ?? timeout).seconds / 4)),
                                    silence: max(0.2, (liveness ?? timeout).seconds),
                                    onAbort: onAbort, abortsProcess: abortsProcess)
        if info.worldSize == 1 {
            let me = [Message.Peer(host: info.host, pid: Int(getpid()))]
            return RankGroup(rank: 0, size: 1, peers: me, session: Session(rank: 0, joined: Joined(links: [:], peers: me), policy: policy))
        }
        guard let endpoint = info.rendezvous else {
            throw .badEnvironment("no rendezvous address: set GPUCOMM_RENDEZVOUS=host:port")
        }
        let joined = info.rank == 0
            ? try Rendezvous.serve(info, endpoint: endpoint, bind: bind, timeout: timeout, log: Session.log)
            : try Rendezvous.attend(info, endpoint: endpoint, timeout: timeout)
        let session = Session(rank: info.rank, joined: joined, policy: policy)
        session.start()
        return RankGroup(rank: info.rank, size: info.worldSize, peers: joined.peers, session: session)
    }

    /// Sends `bytes` from rank `root` to every rank; other ranks pass nil (or anything: it is ignored).
    public func broadcast(_ bytes: [UInt8]?, root: Int = 0) throws(LaunchError) -> [UInt8] {
        guard root >= 0, root < size else { throw .badEnvironment("broadcast root \(root) is outside 0..<\(size)") }
        let mine = rank == root ? (bytes ?? []) : []
        return try session.exchange(.broadcast, root: root, mine).first ?? []
    }

    /// Every rank's `bytes`, by rank, on every rank.
    public func allGather(_ bytes: [UInt8]) throws(LaunchError) -> [[UInt8]] {
        try session.exchange(.allGather, root: 0, bytes)
    }

    /// Returns once every rank has called it.
    public func barrier() throws(LaunchError) {
        _ = try session.exchange(.barrier, root: 0, [])
    }

    /// Orderly end: says goodbye to the other ranks and stops the watcher. Idempotent.
    public func close() { session.close() }
}

/// State shared by the calling thread and the watcher thread; guarded by `condition`.
final class Session: @unchecked Sendable {
    struct Policy {
        var heartbeat: Double
        var silence: Double
        var onAbort: (@Sendable () -> Void)?
        var abortsProcess: Bool
    }

    struct Part { var op: CollectiveOp; var root: Int; var bytes: [UInt8] }

    let rank: Int
    let links: [Int: Connection]
    let peers: [Message.Peer]
    let policy: Policy
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var parts: [UInt64: [Int: Part]] = [:]
    private var results: [UInt64: [[UInt8]]] = [:]
    private var failure: LaunchError?
    private var departed: Set<Int> = []
    private var closing = false
    private var watcherDone = true
    // Only the calling thread:
    private var seq: UInt64 = 0

    init(rank: Int, joined: Joined, policy: Policy) {
        self.rank = rank
        self.links = joined.links
        self.peers = joined.peers
        self.policy = policy
        for link in links.values { link.setSendTimeout(policy.silence) }
    }

    static func log(_ line: String) {
        FileHandle.standardError.write(Data("gpucomm: rendezvous: \(line)\n".utf8))
    }

    func start() {
        guard !links.isEmpty else { return }
        watcherDone = false
        let thread = Thread { [self] in watch() }
        thread.name = "gpucomm-rank-watcher"
        thread.start()
    }

    // MARK: Collectives

    func exchange(_ op: CollectiveOp, root: Int, _ mine: [UInt8]) throws(LaunchError) -> [[UInt8]] {
        let size = peers.count
        if size == 1 { return op == .barrier ? [] : [mine] }
        seq += 1
        let seq = self.seq
        condition.lock()
        if let failure { condition.unlock(); throw failure }
        if closing { condition.unlock(); throw .io("\(op) after close()") }
        condition.unlock()
        if rank != 0 {
            try sendOrFail(.contribute(seq: seq, op: op, root: root, bytes: mine), to: 0)
            return try wait { () throws(LaunchError) -> [[UInt8]]? in
                if let r = results.removeValue(forKey: seq) { return r }
                if departed.contains(0) { throw .rankFailed(rank: 0, host: peers[0].host, detail: "it called close() before this \(op)") }
                return nil
            }
        }
        let others = try wait { () throws(LaunchError) -> [Int: Part]? in
            let got = parts[seq] ?? [:]
            if got.count == size - 1 { parts[seq] = nil; return got }
            if let gone = departed.first(where: { got[$0] == nil }) {
                throw .rankFailed(rank: gone, host: peers[gone].host, detail: "it called close() before this \(op)")
            }
            return nil
        }
        for r in 1..<size {
            let p = others[r]!
            if p.op != op || (op == .broadcast && p.root != root) {
                let what = op == .broadcast ? "broadcast from root \(root)" : "\(op)"
                let theirs = p.op == .broadcast ? "broadcast from root \(p.root)" : "\(p.op)"
                let reason = "collective #\(seq): rank \(r) called \(theirs) while rank 0 called \(what)"
                for link in links.values { try? link.send(.mismatch(reason: reason)) }
                throw .refused(reason)
            }
        }
        let outcome: [[UInt8]]
        switch op {
        case .barrier: outcome = []
        case .broadcast: outcome = [root == 0 ? mine : others[root]!.bytes]
        case .allGather: outcome = [mine] + (1..<size).map { others[$0]!.bytes }
        }
        for r in 1..<size { try sendOrFail(.result(seq: seq, parts: outcome), to: r) }
        return outcome
    }

    /// Waits until `ready` returns a value or throws; a failure seen by the watcher ends the wait
    /// (when the process is to exit, the watcher does that and this thread just waits).
    private func wait<T>(_ ready: () throws(LaunchError) -> T?) throws(LaunchError) -> T {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let failure, !policy.abortsProcess { throw failure }
            if failure == nil, let value = try ready() { return value }
            condition.wait()
        }
    }

    private func sendOrFail(_ message: Message, to r: Int) throws(LaunchError) {
        do { try links[r]!.send(message) } catch {
            // The watcher reads what rank r sent before its connection broke (rank 0's `died` naming another
            // rank, issue 16): give it a moment to report that before blaming r.
            condition.lock()
            let until = Date(timeIntervalSinceNow: min(1, policy.silence))
            while failure == nil && !watcherDone && condition.wait(until: until) {}
            let seen = failure != nil
            condition.unlock()
            if !seen { peerFailed(r, detail: "pid \(peers[r].pid): sending to it failed: \(error.detail)") }
            condition.lock()
            defer { condition.unlock() }
            while policy.abortsProcess { condition.wait() }
            throw failure ?? error
        }
    }

    // MARK: Watcher

    private func watch() {
        var live = Array(links.keys).sorted()
        var lastHeard = Dictionary(uniqueKeysWithValues: live.map { ($0, ContinuousClock.now) })
        var lastBeat = ContinuousClock.now - .seconds(policy.heartbeat)
        while !live.isEmpty {
            condition.lock()
            let stop = closing || failure != nil
            condition.unlock()
            if stop { break }
            let now = ContinuousClock.now
            if (now - lastBeat).seconds >= policy.heartbeat {
                lastBeat = now
                for r in live {
                    do { try links[r]!.send(.heartbeat) } catch {
                        // Rank 0 may have sent `died` about another rank and exited before we read it: what
                        // is still in our receive buffer names the rank that really died (issue 16: about 1
                        // in 60 "died" lines named rank 0). Read it before blaming the peer.
                        _ = drain(r)
                        if !isDeparted(r) && !hasFailed() {
                            peerFailed(r, detail: "pid \(peers[r].pid): heartbeat failed: \(error.detail)")
                        }
                    }
                }
            }
            var fds = live.map { pollfd(fd: links[$0]!.fd, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), Int32(max(10, policy.heartbeat * 500)))
            var gone: Set<Int> = []
            for (i, r) in live.enumerated() where fds[i].revents != 0 {
                if let ended = drain(r) {
                    gone.insert(r)
                    if !ended && !isDeparted(r) && !isClosing() {
                        peerFailed(r, detail: "pid \(peers[r].pid): its connection closed without a goodbye (killed or crashed)")
                    }
                } else {
                    lastHeard[r] = .now
                }
            }
            live.removeAll { gone.contains($0) }
            for r in live where (ContinuousClock.now - lastHeard[r]!).seconds > policy.silence && !isClosing() {
                peerFailed(r, detail: "pid \(peers[r].pid): silent for \(LaunchError.seconds(policy.silence)) (host frozen or network down)")
            }
        }
        condition.lock()
        watcherDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// Reads and handles what rank `r` sent. Returns nil while the connection is open, false when it ended
    /// abnormally, true when it ended after a goodbye.
    private func drain(_ r: Int) -> Bool? {
        let link = links[r]!
        while true {
            let outcome = link.readAvailable()
            do {
                while let message = try link.nextMessage() { handle(message, from: r) }
            } catch {
                return false
            }
            switch outcome {
            case .data: continue
            case .wouldBlock: return nil
            case .eof, .failed: return isDeparted(r)
            }
        }
    }

    private func handle(_ message: Message, from r: Int) {
        condition.lock()
        defer { condition.broadcast(); condition.unlock() }
        switch message {
        case .contribute(let seq, let op, let root, let bytes) where rank == 0:
            parts[seq, default: [:]][r] = Part(op: op, root: root, bytes: bytes)
        case .result(let seq, let outcome) where r == 0:
            results[seq] = outcome
        case .goodbye:
            departed.insert(r)
        case .died(let rank, let host, let pid, let detail) where r == 0:
            condition.unlock()
            fail(.rankFailed(rank: rank, host: host, detail: detail.hasPrefix("pid") ? detail : "pid \(pid): \(detail)"))
            condition.lock()
        case .mismatch(let reason) where r == 0:
            condition.unlock()
            fail(.refused(reason))
            condition.lock()
        default:
            break
        }
    }

    private func isDeparted(_ r: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return departed.contains(r)
    }

    private func hasFailed() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return failure != nil
    }

    private func isClosing() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return closing
    }

    /// Rank `r` died or went silent: rank 0 tells everybody else first; then this process ends.
    private func peerFailed(_ r: Int, detail: String) {
        if isClosing() { return }  // our own hang-up, not theirs
        if rank == 0 {
            for (other, link) in links where other != r {
                try? link.send(.died(rank: r, host: peers[r].host, pid: peers[r].pid, detail: detail))
            }
        }
        fail(.rankFailed(rank: r, host: peers[r].host, detail: detail))
    }

    private func fail(_ error: LaunchError) {
        condition.lock()
        let first = failure == nil && !closing
        if first { failure = error }
        condition.broadcast()
        condition.unlock()
        guard first, policy.abortsProcess else { return }
        policy.onAbort?()
        FileHandle.standardError.write(Data("gpucomm: \(error.description)\n".utf8))
        // _exit, not exit: exit's handlers tear down CUDA, which waits for a kernel that is itself
        // waiting for the dead rank (seen on 4×H200: exit(6) hung until the watchdog ended it).
        fflush(nil)
        _exit(6)
    }

    // MARK: End

    func close() {
        condition.lock()
        if closing { condition.unlock(); return }
        closing = true
        condition.broadcast()
        condition.unlock()
        for link in links.values {
            try? link.send(.goodbye)
            link.hangUp()
        }
        // The descriptors are closed only once the watcher has stopped using them: a descriptor number
        // reused by NCCL's own sockets must never be read by us. Everything the watcher does is bounded.
        condition.lock()
        let until = Date(timeIntervalSinceNow: policy.silence + policy.heartbeat * 2 + 1)
        while !watcherDone && condition.wait(until: until) {}
        let stopped = watcherDone
        condition.unlock()
        if stopped { for link in links.values { link.shut() } }
    }
}
