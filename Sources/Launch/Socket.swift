// TCP sockets for the rendezvous, on Glibc directly: one choke point (`check`) turns -1 + errno into LaunchError.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection carrying framed messages. Sends are serialized by a lock (the main thread sends
/// collectives while the watcher sends heartbeats); receiving is done by one thread at a time.
final class Connection: @unchecked Sendable {
    let fd: Int32
    private let sendLock = NSLock()
    private var frames: FrameBuffer
    private var closed = false

    init(fd: Int32, limit: Int = Message.maxFrame) {
        self.fd = fd
        self.frames = FrameBuffer(limit: limit)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { shut() }

    /// Closes the descriptor once.
    func shut() {
        sendLock.lock()
        defer { sendLock.unlock() }
        if !closed { closed = true; Glibc.close(fd) }
    }

    /// Ends both directions (the goodbye already sent still arrives) without freeing the descriptor,
    /// so a thread polling it wakes up.
    func hangUp() {
        sendLock.lock()
        defer { sendLock.unlock() }
        if !closed { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Raises the frame limit once the peer has proved it is a rank.
    func trust() { frames.limit = Message.maxFrame }

    /// Bounds how long one send may block (a peer that stopped reading).
    func setSendTimeout(_ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends one whole frame (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
    func send(_ message: Message) throws(LaunchError) {
        let frame = message.encoded()
        sendLock.lock()
        defer { sendLock.unlock() }
        guard !closed else { throw .io("send on a closed connection") }
        var sent = 0
        while sent < frame.count {
            let n = frame.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, frame.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("send: \(Net.errorText())")
            }
            sent += n
        }
    }

    enum ReadOutcome { case data, wouldBlock, eof, failed(String) }

    /// Reads what the socket holds without blocking.
    func readAvailable() -> ReadOutcome {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if n > 0 {
            chunk.withUnsafeBytes { frames.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            return .data
        }
        if n == 0 { return .eof }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock }
        return .failed(Net.errorText())
    }

    /// The next complete message already read, if any.
    func nextMessage() throws(LaunchError) -> Message? { try frames.next() }

    /// Waits for one message until `deadline`; nil when the deadline passes. Throws on EOF or error.
    func receive(until deadline: ContinuousClock.Instant) throws(LaunchError) -> Message? {
        while true {
            if let m = try frames.next() { return m }
            let left = deadline - .now
            if left <= .zero { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(min(max(left.seconds * 1000, 1), 1000))
            let r = poll(&p, 1, ms)
            if r < 0 && errno != EINTR { throw .io("poll: \(Net.errorText())") }
            if r <= 0 { continue }
            switch readAvailable() {
            case .data, .wouldBlock: continue
            case .eof: throw .io("connection closed by peer")
            case .failed(let text): throw .io("recv: \(text)")
            }
        }
    }
}

/// Socket set-up: listen, accept, connect with a deadline.
enum Net {
    static func errorText(_ code: Int32 = errno) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }

    /// Resolves host:port (numeric or by name) into socket addresses.
    static func resolve(_ host: String, _ port: UInt16, passive: Bool) throws(LaunchError) -> [(Int32, [UInt8])] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE : 0
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw .io("cannot resolve '\(host)': \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(first) }
        var out: [(Int32, [UInt8])] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let n = node {
            let bytes = UnsafeRawBufferPointer(start: n.pointee.ai_addr, count: Int(n.pointee.ai_addrlen))
            out.append((n.pointee.ai_family, Array(bytes)))
            node = n.pointee.ai_next
        }
        return out
    }

    /// Listens on host:port (SO_REUSEADDR); port 0 picks a free one. Returns the descriptor and the port.
    static func listen(host: String, port: UInt16) throws(LaunchError) -> (Int32, UInt16) {
        var lastError = "no address"
        for (family, address) in try resolve(host, port, passive: true) {
            let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = "socket: \(errorText())"; continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let bound = address.withUnsafeBytes {
                bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
            }
            guard bound == 0 else {
                let code = errno
                lastError = "rank 0 cannot listen on \(host):\(port): \(errorText(code))"
                if code == EADDRINUSE { lastError += "; pick a free port with GPUCOMM_RENDEZVOUS=host:port" }
                if code == EADDRNOTAVAIL { lastError += "; GPUCOMM_BIND must be an address of this host" }
                close(fd)
                continue
            }
            guard Glibc.listen(fd, 1024) == 0 else { lastError = "listen: \(errorText())"; close(fd); continue }
            return (fd, localPort(fd) ?? port)
        }
        throw .io(lastError)
    }

    static func localPort(_ fd: Int32) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        let family = storage.ss_family
        return withUnsafePointer(to: &storage) { pointer -> UInt16 in
            if family == sa_family_t(AF_INET6) {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// Accepts one pending connection, if any (the listener is polled first).
    static func accept(_ listener: Int32) -> Int32? {
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    /// One connection attempt to host:port that gives up at `deadline`.
    static func connect(to endpoint: Endpoint, until deadline: ContinuousClock.Instant) throws(LaunchError) -> Int32 {
        var lastError = "no address"
        for (family, address) in try resolve(endpoint.host, endpoint.port, passive: false) {
            let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { lastError = "socket: \(errorText())"; continue }
            let rc = address.withUnsafeBytes {
                Glibc.connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
            }
            var ok = rc == 0
            if !ok && errno == EINPROGRESS {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ms = Int32(max(0, min((deadline - .now).seconds * 1000, 10_000)))
                if poll(&p, 1, ms) == 1 {
                    var soError: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
                    ok = soError == 0
                    if !ok { lastError = "connect \(endpoint): \(errorText(soError))" }
                } else {
                    lastError = "connect \(endpoint): no answer"
                }
            } else if !ok {
                lastError = "connect \(endpoint): \(errorText())"
            }
            if ok {
                let flags = fcntl(fd, F_GETFL)
                _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
                return fd
            }
            close(fd)
        }
        throw .io(lastError)
    }

    /// A loopback port that was free a moment ago (bind port 0, read it, close).
    static func freeLoopbackPort() throws(LaunchError) -> UInt16 {
        let (fd, port) = try listen(host: "127.0.0.1", port: 0)
        close(fd)
        return port
    }
}
