// The join phase: rank 0 accepts one hello per rank and answers `ready` once all are in (or `timeout`);
// every other rank connects with retries and waits for that answer. Every wait has a deadline.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the join phase hands to the running job.
struct Joined {
    /// Rank 0: one connection per other rank. Other ranks: `[0: connection to rank 0]`.
    var links: [Int: Connection]
    /// Host and pid of every rank, by rank.
    var peers: [Message.Peer]
}

enum Rendezvous {
    /// Rank 0's side: listen on bind:port, take hellos until all `size - 1` others are in or the deadline passes.
    static func serve(_ info: RankInfo, endpoint: Endpoint, bind: String, timeout: Duration,
                      log: (String) -> Void) throws(LaunchError) -> Joined {
        let start = ContinuousClock.now
        let deadline = start + timeout
        let (listener, _) = try Net.listen(host: bind, port: endpoint.port)
        defer { close(listener) }
        var joined: [Int: (Connection, Message.Peer)] = [:]
        var pending: [(Connection, ContinuousClock.Instant)] = []
        let expected = info.worldSize - 1

        while joined.count < expected {
            let now = ContinuousClock.now
            if now >= deadline {
                let missing = (1..<info.worldSize).filter { joined[$0] == nil }
                let waited = (now - start).seconds
                for (link, _) in joined.values {
                    try? link.send(.timeout(missing: missing, waitedMilliseconds: UInt64(waited * 1000)))
                }
                throw .timeout(missingRanks: missing, waitedSeconds: waited)
            }
            // Poll the listener, the connections still owing a hello, and the joined ones (to see them leave).
            let joinedRanks = Array(joined.keys)
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            fds += pending.map { pollfd(fd: $0.0.fd, events: Int16(POLLIN), revents: 0) }
            fds += joinedRanks.map { pollfd(fd: joined[$0]!.0.fd, events: Int16(POLLIN), revents: 0) }
            let ms = Int32(max(1, min((deadline - now).seconds * 1000, 200)))
            if poll(&fds, nfds_t(fds.count), ms) < 0 && errno != EINTR {
                throw .io("poll: \(Net.errorText())")
            }
            // Joined ranks that closed before the job started are no longer counted.
            for (i, r) in joinedRanks.enumerated() where fds[1 + pending.count + i].revents != 0 {
                let (link, peer) = joined[r]!
                switch link.readAvailable() {
                case .eof, .failed:
                    log("rank \(r) on \(peer.host) (pid \(peer.pid)) left before every rank had arrived")
                    joined[r] = nil
                case .data, .wouldBlock: break
                }
            }
            var stillPending: [(Connection, ContinuousClock.Instant)] = []
            for (i, (link, since)) in pending.enumerated() {
                var keep = true
                if fds[1 + i].revents != 0 {
                    switch link.readAvailable() {
                    case .eof, .failed: keep = false
                    case .data, .wouldBlock:
                        do {
                            if let message = try link.nextMessage() {
                                keep = false
                                if case .hello(let hello) = message {
                                    admit(hello, link: link, info: info, joined: &joined, log: log)
                                }
                            }
                        } catch { keep = false }
                    }
                }
                // A connection that says nothing for 2 s is not a rank.
                if keep && ContinuousClock.now - since > .seconds(2) { keep = false }
                if keep { stillPending.append((link, since)) }
            }
            pending = stillPending
            if fds[0].revents & Int16(POLLIN) != 0, let fd = Net.accept(listener) {
                pending.append((Connection(fd: fd, limit: Message.maxHello), ContinuousClock.now))
            }
        }
        var peers = [Message.Peer(host: info.host, pid: Int(getpid()))]
        for r in 1..<info.worldSize { peers.append(joined[r]!.1) }
        var links: [Int: Connection] = [:]
        for (r, (link, _)) in joined {
            link.trust()
            try? link.send(.ready(peers: peers))
            links[r] = link
        }
        return Joined(links: links, peers: peers)
    }

    /// Checks a hello; refuses it (with the reason, which the refused rank prints) or records the rank.
    static func admit(_ hello: Message.Hello, link: Connection, info: RankInfo,
                      joined: inout [Int: (Connection, Message.Peer)], log: (String) -> Void) {
        let who = "rank \(hello.rank) from \(hello.host) (pid \(hello.pid))"
        func refuse(_ reason: String, wrongToken: Bool = false) {
            log("refused \(who): \(reason)")
            try? link.send(.refuse(wrongToken: wrongToken, reason: reason))
            link.shut()
        }
        guard hello.magic == Message.magic, hello.version == Message.version else {
            return refuse("protocol \(hello.magic) v\(hello.version); rank 0 speaks \(Message.magic) v\(Message.version)")
        }
        guard hello.token == (info.token ?? "") else {
            return refuse("wrong rendezvous token", wrongToken: true)
        }
        guard hello.size == info.worldSize else {
            return refuse("it says the world size is \(hello.size); rank 0 says \(info.worldSize)")
        }
        guard hello.rank >= 1, hello.rank < info.worldSize else {
            return refuse("rank \(hello.rank) is outside 1..<\(info.worldSize)")
        }
        if let (_, first) = joined[hello.rank] {
            return refuse("rank \(hello.rank) already joined from \(first.host) (pid \(first.pid))")
        }
        joined[hello.rank] = (link, Message.Peer(host: hello.host, pid: hello.pid))
    }

    /// Another rank's side: connect to rank 0 (retrying until the deadline), say hello, wait for the verdict.
    static func attend(_ info: RankInfo, endpoint: Endpoint, timeout: Duration) throws(LaunchError) -> Joined {
        let start = ContinuousClock.now
        let deadline = start + timeout
        var fd: Int32 = -1
        var pause = Duration.milliseconds(50)
        while fd < 0 {
            do {
                fd = try Net.connect(to: endpoint, until: min(deadline, .now + .seconds(2)))
            } catch {
                if ContinuousClock.now + pause >= deadline {
                    throw .unreachable(rendezvous: endpoint.description, lastError: error.detail,
                                       waitedSeconds: (ContinuousClock.now - start).seconds)
                }
                Thread.sleep(forTimeInterval: pause.seconds)
                pause = min(pause * 2, .milliseconds(500))
            }
        }
        let link = Connection(fd: fd)
        let hello = Message.Hello(token: info.token ?? "", rank: info.rank, size: info.worldSize,
                                  host: info.host, pid: Int(getpid()))
        do { try link.send(.hello(hello)) } catch {
            throw .rankFailed(rank: 0, host: endpoint.host, detail: "the rendezvous connection failed: \(error.detail)")
        }
        // Rank 0 answers by its own deadline, at most `timeout` after it started listening, which was before
        // we connected; a little grace covers the transfer.
        let verdictBy = ContinuousClock.now + timeout + .seconds(2)
        let message: Message?
        do { message = try link.receive(until: verdictBy) } catch {
            throw .rankFailed(rank: 0, host: endpoint.host,
                              detail: "it closed the connection before every rank had arrived (\(error.detail))")
        }
        switch message {
        case .ready(let peers)?:
            guard peers.count == info.worldSize else { throw .refused("rank 0 sent \(peers.count) ranks, expected \(info.worldSize)") }
            return Joined(links: [0: link], peers: peers)
        case .refuse(true, _)?:
            throw .wrongToken(rank: info.rank, rendezvous: endpoint.description)
        case .refuse(false, let reason)?:
            throw .refused("rank 0 at \(endpoint) refused rank \(info.rank): \(reason)")
        case .timeout(let missing, let ms)?:
            throw .timeout(missingRanks: missing, waitedSeconds: Double(ms) / 1000)
        case nil:
            // Something accepted the connection but never answered as rank 0 does (it sends `ready` or
            // `timeout` by its deadline): most likely another program or job holds the port.
            throw .io("\(endpoint) accepted the connection but never answered in "
                + "\(LaunchError.seconds((ContinuousClock.now - start).seconds)): it is not this job's rank 0 "
                + "(another job or program may hold the port; set GPUCOMM_RENDEZVOUS=<host>:<free port>)")
        case let other?:
            throw .io("unexpected \(other.kind) from rank 0 during the rendezvous")
        }
    }
}
