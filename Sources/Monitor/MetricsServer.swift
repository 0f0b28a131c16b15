import Foundation

/// The `/metrics` endpoint of `gpucomm top --listen ADDR:PORT`: HTTP/1.0, one request per connection.
///
/// One thread serves every connection with `poll`, so a slow client costs a slot, not time: at most
/// `Limits.connections` are open (a new one beyond that closes the oldest still sending its request),
/// each request must arrive whole within `Limits.requestSeconds` and within `Limits.requestBytes`, and
/// each answer must be taken within the same deadline. Fresh numbers come from the monitor's loop: a
/// waiting `GET /metrics` makes `fd` readable, the loop calls `serveOne(metrics:)`, and the text goes to
/// every waiting request. When the loop is busy for longer than `Limits.freshSeconds`, requests get the
/// last text it gave. Bound to the given address only.
final class MetricsServer: @unchecked Sendable {
    struct Limits: Sendable {
        /// Open connections at most.
        var connections = 256
        /// From accept to the whole request read, and from the first byte written to the last.
        var requestSeconds = 5.0
        /// Largest request (request line and headers).
        var requestBytes = 8192
        /// How long a request waits for the monitor's loop before it gets the last text.
        var freshSeconds = 0.25
    }

    /// Readable when a request waits for fresh metrics: poll it, then call `serveOne(metrics:)`.
    let fd: Int32
    /// `host:port` actually bound (the port is filled in when 0 was asked).
    let boundAddress: String
    let limits: Limits

    private let engine: Engine

    /// What the server did, for tests and diagnostics.
    struct Counts: Equatable, Sendable {
        var served = 0, refused = 0, evicted = 0, timedOut = 0, tooLarge = 0, malformed = 0
    }

    /// Parses `ADDR:PORT` (`127.0.0.1:9464`, `0.0.0.0:9464`, `[::1]:9464`, `:9464` = all IPv4 addresses).
    static func parse(_ text: String) throws -> (host: String, port: UInt16) {
        var host: Substring
        var port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw MonitorError("--listen \(text): expected ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464")
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw MonitorError("--listen \(text): expected ADDR:PORT, e.g. 127.0.0.1:9464")
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard let p = UInt16(port) else { throw MonitorError("--listen \(text): port must be 0…65535") }
        return (String(host), p)
    }

    init(listen text: String, limits: Limits = Limits()) throws {
        let (host, port) = try Self.parse(text)
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let ai = result else {
            throw MonitorError("--listen \(text): \(host) is not a numeric IPv4 or IPv6 address")
        }
        defer { freeaddrinfo(result) }
        let s = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw MonitorError("--listen \(text): socket failed: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0, Glibc.listen(s, 128) == 0 else {
            let e = String(cString: strerror(errno))
            close(s)
            throw MonitorError("--listen \(text): cannot bind: \(e)")
        }
        var want: [Int32] = [0, 0], wake: [Int32] = [0, 0]
        guard pipe(&want) == 0, pipe(&wake) == 0 else {
            close(s)
            throw MonitorError("--listen \(text): pipe failed: \(String(cString: strerror(errno)))")
        }
        for d in want + wake + [s] { Self.nonBlocking(d) }
        engine = Engine(listener: s, want: (want[0], want[1]), wake: (wake[0], wake[1]), limits: limits)
        fd = want[0]
        self.limits = limits
        boundAddress = (host.contains(":") ? "[\(host)]" : host) + ":\(Self.localPort(s))"
        let engine = self.engine
        let thread = Thread { engine.serve() }
        thread.name = "gpucomm-metrics"
        thread.start()
    }

    /// Stops the server thread (it holds the engine, never this object) and closes every descriptor.
    deinit { engine.stop() }

    /// Called by the monitor's loop when `fd` is readable: hands fresh metrics to every waiting request.
    func serveOne(metrics: () -> String) {
        engine.publish(metrics)
    }

    /// What the server has done so far.
    var statistics: Counts { engine.statistics }

    // MARK: - The server thread

    /// Everything the server thread touches; the thread holds it, so `MetricsServer.deinit` can stop it.
    private final class Engine: @unchecked Sendable {
        let limits: Limits
        let listener: Int32
        let wantRead: Int32, wantWrite: Int32      // server thread → monitor loop: "a request waits"
        let wakeRead: Int32, wakeWrite: Int32      // monitor loop / deinit → server thread
        let state = NSCondition()
        // Guarded by `state`:
        var latest: String?
        var generation = 0
        var stopping = false
        var stopped = false
        var counts = Counts()

        init(listener: Int32, want: (Int32, Int32), wake: (Int32, Int32), limits: Limits) {
            self.listener = listener
            (wantRead, wantWrite) = want
            (wakeRead, wakeWrite) = wake
            self.limits = limits
        }

        func stop() {
            state.lock()
            stopping = true
            state.unlock()
            poke(wakeWrite)
            state.lock()
            while !stopped { state.wait() }
            state.unlock()
            for d in [listener, wantRead, wantWrite, wakeRead, wakeWrite] { close(d) }
        }

        func publish(_ metrics: () -> String) {
            var sink = [UInt8](repeating: 0, count: 64)
            while read(wantRead, &sink, sink.count) > 0 {}
            let text = metrics()
            state.lock()
            latest = text
            generation += 1
            state.unlock()
            poke(wakeWrite)
        }

        var statistics: Counts {
            state.lock()
            defer { state.unlock() }
            return counts
        }

        final class Client {
            let fd: Int32
            let since: Double
            var request: [UInt8] = []
            var out: ArraySlice<UInt8> = []
            var deadline: Double
            var waitingSince: Double?  // a GET /metrics waiting for the monitor
            var head = false
            init(fd: Int32, now: Double, deadline: Double) { self.fd = fd; since = now; self.deadline = deadline }
        }

        func serve() {
            var clients: [Client] = []
            var asked = false      // the monitor's loop was asked for fresh metrics ...
            var askedAt = 0        // ... when the generation was this
            while true {
                state.lock()
                let stop = stopping
                let text = latest
                let gen = generation
                state.unlock()
                if stop { break }
                let now = MetricsServer.now()
                // Requests waiting for metrics: answer with fresh text, or the last text once the loop is late.
                let fresh = asked && gen > askedAt
                for c in clients {
                    guard let since = c.waitingSince else { continue }
                    if let text, fresh || now - since >= limits.freshSeconds {
                        answer(c, MetricsServer.reply(200, PrometheusView.contentType, text, head: c.head), now: now)
                    } else if now - since >= limits.requestSeconds {
                        answer(c, MetricsServer.reply(503, "text/plain", "no metrics yet\n", head: false), now: now)
                    }
                }
                if fresh || !clients.contains(where: { $0.waitingSince != nil }) { asked = false }
                if !asked && clients.contains(where: { $0.waitingSince != nil }) {
                    asked = true
                    askedAt = gen
                    poke(wantWrite)
                }
                // Deadlines.
                clients.removeAll { c in
                    guard now >= c.deadline else { return false }
                    count { $0.timedOut += 1 }
                    close(c.fd)
                    return true
                }
                var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
                for c in clients {
                    let events = c.waitingSince != nil ? 0 : (c.out.isEmpty ? POLLIN : POLLOUT)
                    fds.append(pollfd(fd: c.fd, events: Int16(events), revents: 0))
                }
                var wait = clients.map { $0.deadline - now }.min() ?? 1.0
                if clients.contains(where: { $0.waitingSince != nil }) { wait = min(wait, limits.freshSeconds / 4) }
                _ = poll(&fds, nfds_t(fds.count), Int32(max(1, min(wait, 1.0) * 1000)))
                if fds[0].revents != 0 {
                    var sink = [UInt8](repeating: 0, count: 64)
                    while read(wakeRead, &sink, sink.count) > 0 {}
                }
                var closed = Set<Int32>()
                for (i, c) in clients.enumerated() where fds[i + 2].revents != 0 {
                    if !progress(c, now: MetricsServer.now()) { closed.insert(c.fd) }
                }
                clients.removeAll { closed.contains($0.fd) }
                if fds[1].revents != 0 { accept(into: &clients) }
            }
            for c in clients { close(c.fd) }
            state.lock()
            stopped = true
            state.broadcast()
            state.unlock()
        }

        /// Takes every waiting connection; beyond the cap, the oldest one still sending its request makes room.
        private func accept(into clients: inout [Client]) {
            while true {
                let c = Glibc.accept(listener, nil, nil)
                if c < 0 { return }
                MetricsServer.nonBlocking(c)
                if clients.count >= limits.connections {
                    if let victim = clients.indices.filter({ clients[$0].out.isEmpty && clients[$0].waitingSince == nil })
                        .min(by: { clients[$0].since < clients[$1].since }) {
                        close(clients[victim].fd)
                        clients.remove(at: victim)
                        count { $0.evicted += 1 }
                    } else {
                        _ = MetricsServer.reply(503, "text/plain", "too many connections\n", head: false).withCString { send(c, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                        close(c)
                        count { $0.refused += 1 }
                        continue
                    }
                }
                let now = MetricsServer.now()
                clients.append(Client(fd: c, now: now, deadline: now + limits.requestSeconds))
            }
        }

        /// Reads or writes what the connection is ready for; false when it is finished (and closed).
        private func progress(_ c: Client, now: Double) -> Bool {
            if !c.out.isEmpty {
                let n = c.out.withUnsafeBytes { send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n > 0 { c.out = c.out.dropFirst(n) }
                if c.out.isEmpty || (n < 0 && errno != EAGAIN && errno != EINTR) {
                    if c.out.isEmpty { count { $0.served += 1 } }
                    close(c.fd)
                    return false
                }
                return true
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(c.fd, &buffer, buffer.count, 0)
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { close(c.fd); return false }
            if n < 0 { return true }
            c.request += buffer[0..<n]
            let end = MetricsServer.headerEnd(c.request)
            if end == nil && c.request.count >= limits.requestBytes || (end ?? 0) > limits.requestBytes {
                count { $0.tooLarge += 1 }
                answer(c, MetricsServer.reply(431, "text/plain", "request larger than \(limits.requestBytes) bytes\n", head: false), now: now)
                return true
            }
            guard end != nil else { return true }
            let text = String(decoding: c.request, as: UTF8.self)
            let first = text.split(separator: "\r\n", maxSplits: 1).first ?? ""
            let parts = first.split(separator: " ")
            if parts.count == 3, parts[0] == "GET" || parts[0] == "HEAD", parts[1].split(separator: "?").first == "/metrics" {
                c.waitingSince = now
                c.head = parts[0] == "HEAD"
                return true
            }
            if parts.count != 3 || !parts[2].hasPrefix("HTTP/") { count { $0.malformed += 1 } }
            answer(c, MetricsServer.respond(to: text) { "" }, now: now)
            return true
        }

        private func answer(_ c: Client, _ response: String, now: Double) {
            c.waitingSince = nil
            c.out = Array(response.utf8)[...]
            c.deadline = now + limits.requestSeconds
        }

        private func count(_ change: (inout Counts) -> Void) {
            state.lock()
            change(&counts)
            state.unlock()
        }

        private func poke(_ fd: Int32) {
            var one: UInt8 = 1
            _ = write(fd, &one, 1)
        }
    }

    static func nonBlocking(_ d: Int32) {
        _ = fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK)
        _ = fcntl(d, F_SETFD, FD_CLOEXEC)
    }

    /// Index just past the blank line that ends the headers, if it has arrived.
    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 3..<bytes.count where bytes[i] == 10 && bytes[i - 1] == 13 && bytes[i - 2] == 10 && bytes[i - 3] == 13 {
            return i + 1
        }
        return nil
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    static func localPort(_ s: Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(s, $0, &len) }
            if p.pointee.ss_family == sa_family_t(AF_INET6) {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// The full HTTP response to a request's text.
    static func respond(to request: String, metrics: () -> String) -> String {
        let first = request.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = first.split(separator: " ")
        guard parts.count >= 2 else { return reply(400, "text/plain", "bad request\n", head: false) }
        let method = parts[0], path = parts[1].split(separator: "?").first.map(String.init) ?? ""
        guard method == "GET" || method == "HEAD" else { return reply(405, "text/plain", "only GET\n", head: false) }
        switch path {
        case "/metrics": return reply(200, PrometheusView.contentType, metrics(), head: method == "HEAD")
        case "/": return reply(200, "text/plain", "gpucomm top: Prometheus metrics at /metrics\n", head: method == "HEAD")
        default: return reply(404, "text/plain", "not found; try /metrics\n", head: method == "HEAD")
        }
    }

    static func reply(_ code: Int, _ type: String, _ body: String, head: Bool) -> String {
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                      431: "Request Header Fields Too Large", 503: "Service Unavailable"][code] ?? "Error"
        return "HTTP/1.0 \(code) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
            + (head ? "" : body)
    }
}
