import Foundation
import Testing
@testable import Monitor

/// The metrics endpoint under clients that misbehave, on loopback only, every wait bounded.
/// Before issue 16 the server read one connection at a time with a 2 s timeout: one half-sent request
/// delayed every scrape by 2 s, and 100 idle connections silenced it.
@Suite(.serialized) struct MetricsAbuseTests {
    /// A server plus a thread standing in for `gpucomm top`'s loop: it polls `fd` and calls `serveOne`.
    final class Fixture: @unchecked Sendable {
        let server: MetricsServer
        let port: UInt16
        private let lock = NSLock()
        private var running = true
        private var done = false
        private(set) var samples = 0

        init(limits: MetricsServer.Limits = .init(), loop: Bool = true) throws {
            server = try MetricsServer(listen: "127.0.0.1:0", limits: limits)
            port = UInt16(server.boundAddress.split(separator: ":").last!)!
            guard loop else { done = true; return }
            Thread { [self] in
                while isRunning {
                    var p = pollfd(fd: server.fd, events: Int16(POLLIN), revents: 0)
                    if poll(&p, 1, 20) > 0 {
                        lock.lock(); samples += 1; let n = samples; lock.unlock()
                        server.serveOne { "gpucomm_test_sample \(n)\n" }
                    }
                }
                lock.lock(); done = true; lock.unlock()
            }.start()
        }

        var isRunning: Bool { lock.lock(); defer { lock.unlock() }; return running }

        func stop() {
            lock.lock(); running = false; lock.unlock()
            while true { lock.lock(); let d = done; lock.unlock(); if d { return }; usleep(5000) }
        }
    }

    /// A loopback TCP connection with a receive timeout.
    static func connectTo(_ port: UInt16) -> Int32 {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { close(s); return -1 }
        return s
    }

    static func send(_ s: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(s, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything the server sends until it closes (or 5 s pass).
    static func readAll(_ s: Int32) -> String {
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(s, &buffer, buffer.count, 0)
            if n <= 0 { break }
            reply += buffer[0..<n]
        }
        return String(decoding: reply, as: UTF8.self)
    }

    /// One request; the whole reply and how long it took.
    static func request(_ port: UInt16, _ text: String = "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n") -> (String, Double) {
        let start = MetricsServer.now()
        let s = connectTo(port)
        guard s >= 0 else { return ("connect failed: \(String(cString: strerror(errno)))", MetricsServer.now() - start) }
        defer { close(s) }
        send(s, text)
        return (readAll(s), MetricsServer.now() - start)
    }

    @Test func aScrapeAnswersWithinOneSecondWhileAHundredIdleConnectionsAreHeld() throws {
        let f = try Fixture()
        defer { f.stop() }
        var held: [Int32] = []
        defer { held.forEach { close($0) } }
        for i in 0..<100 {
            let s = Self.connectTo(f.port)
            #expect(s >= 0)
            if i % 2 == 1 { Self.send(s, "GET /metr") }  // half of them half-sent
            held.append(s)
        }
        usleep(100_000)
        for _ in 0..<5 {
            let (reply, seconds) = Self.request(f.port)
            #expect(reply.hasPrefix("HTTP/1.0 200 OK"), "\(reply)")
            #expect(reply.contains("gpucomm_test_sample "))
            #expect(seconds < 1.0, "a scrape took \(seconds) s beside 100 idle connections")
        }
    }

    @Test func idleAndHalfSentConnectionsAreClosedAtTheDeadline() throws {
        var limits = MetricsServer.Limits()
        limits.requestSeconds = 0.5
        let f = try Fixture(limits: limits)
        defer { f.stop() }
        let idle = Self.connectTo(f.port), half = Self.connectTo(f.port)
        defer { close(idle); close(half) }
        Self.send(half, "GET /metrics HTTP/1.1\r\nHost:")
        let start = MetricsServer.now()
        #expect(Self.readAll(idle) == "")   // closed by the server, not by our 5 s timeout
        #expect(Self.readAll(half) == "")
        let waited = MetricsServer.now() - start
        #expect(waited > 0.3 && waited < 2.5, "closed after \(waited) s")
        #expect(f.server.statistics.timedOut >= 2)
    }

    @Test func oversizedRequestsAreRefusedWith431() throws {
        let f = try Fixture()
        defer { f.stop() }
        let long = "GET /metrics HTTP/1.1\r\n" + String(repeating: "X-Pad: \(String(repeating: "a", count: 1000))\r\n", count: 20)
        let (noEnd, _) = Self.request(f.port, long)  // 20 KB of headers, never finished
        #expect(noEnd.hasPrefix("HTTP/1.0 431"), "\(noEnd.prefix(80))")
        let (finished, _) = Self.request(f.port, long + "\r\n")
        #expect(finished.hasPrefix("HTTP/1.0 431"), "\(finished.prefix(80))")
        #expect(f.server.statistics.tooLarge == 2)
        #expect(Self.request(f.port).0.hasPrefix("HTTP/1.0 200"))
    }

    @Test(arguments: [
        ("HELLO\r\n\r\n", "HTTP/1.0 400"),
        ("\u{1}\u{2}\u{3}\u{ff}garbage \r\n\r\n", "HTTP/1.0 400"),
        ("POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "HTTP/1.0 405"),
        ("GET /secret HTTP/1.1\r\n\r\n", "HTTP/1.0 404"),
        ("GET /metrics?x=1 HTTP/1.0\r\n\r\n", "HTTP/1.0 200"),
        ("HEAD /metrics HTTP/1.1\r\n\r\n", "HTTP/1.0 200"),
    ])
    func malformedAndOddRequestsGetAnAnswer(request: String, status: String) throws {
        let f = try Fixture()
        defer { f.stop() }
        let (reply, seconds) = Self.request(f.port, request)
        #expect(reply.hasPrefix(status), "\(reply.prefix(80))")
        #expect(seconds < 1.0)
    }

    @Test func beyondTheCapTheOldestIdleConnectionMakesRoom() throws {
        var limits = MetricsServer.Limits()
        limits.connections = 10
        let f = try Fixture(limits: limits)
        defer { f.stop() }
        let held = (0..<30).map { _ in Self.connectTo(f.port) }
        defer { held.forEach { close($0) } }
        usleep(100_000)
        let (reply, seconds) = Self.request(f.port)
        #expect(reply.hasPrefix("HTTP/1.0 200"))
        #expect(seconds < 1.0)
        #expect(f.server.statistics.evicted >= 20)
        // The first ones were closed by the server.
        #expect(Self.readAll(held[0]) == "")
    }

    @Test func boundedLoadFromEightClients() throws {
        let f = try Fixture()
        defer { f.stop() }
        let start = MetricsServer.now()
        let results = ThreadPool.run(8) { _ in
            (0..<40).map { _ in Self.request(f.port) }.filter { $0.0.hasPrefix("HTTP/1.0 200") && $0.1 < 2 }.count
        }
        #expect(results == Array(repeating: 40, count: 8))
        #expect(MetricsServer.now() - start < 30)
        #expect(f.server.statistics.served >= 320)
    }

    @Test func releasingTheServerStopsItsThreadAndClosesItsPort() throws {
        var server: MetricsServer? = try MetricsServer(listen: "127.0.0.1:0")
        let port = UInt16(server!.boundAddress.split(separator: ":").last!)!
        let open = Self.connectTo(port)
        #expect(open >= 0)
        server = nil  // waits for the server thread to end
        #expect(Self.readAll(open) == "")  // the server closed the connection it held
        close(open)
        let refused = Self.connectTo(port)
        #expect(refused == -1 && errno == ECONNREFUSED)
        if refused >= 0 { close(refused) }
    }

    @Test func aBusyMonitorLoopStillGetsTheLastNumbersServed() throws {
        let f = try Fixture(loop: false)
        f.server.serveOne { "gpucomm_test_sample 7\n" }
        let (reply, seconds) = Self.request(f.port)
        #expect(reply.hasSuffix("gpucomm_test_sample 7\n"))
        #expect(seconds >= f.server.limits.freshSeconds * 0.9 && seconds < 1.0)
    }
}

/// Runs `body(i)` on `n` threads and returns the results in order.
enum ThreadPool {
    static func run<T: Sendable>(_ n: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
        let box = ResultBox<T>()
        for i in 0..<n {
            Thread {
                let v = body(i)
                box.c.lock(); box.out[i] = v; box.c.broadcast(); box.c.unlock()
            }.start()
        }
        box.c.lock()
        while box.out.count < n { box.c.wait() }
        box.c.unlock()
        return (0..<n).map { box.out[$0]! }
    }
}

final class ResultBox<T>: @unchecked Sendable {
    let c = NSCondition()
    var out: [Int: T] = [:]
}
