import Foundation

/// A tiny blocking HTTP/1.0 server for `--listen ADDR:PORT`: `GET /metrics` answers the latest
/// Prometheus exposition. Bound to the given address only; one request per connection, served
/// from the monitor's own loop between samples (no threads).
final class MetricsServer {
    let fd: Int32
    /// `host:port` actually bound (the port is filled in when 0 was asked).
    let boundAddress: String

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

    init(listen text: String) throws {
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
        guard s >= 0 else { throw MonitorError("socket failed: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0, listen(s, 16) == 0 else {
            let e = String(cString: strerror(errno))
            close(s)
            throw MonitorError("--listen \(text): cannot bind: \(e)")
        }
        fd = s
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let boundPort: UInt16 = withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(s, $0, &len) }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        boundAddress = (host.contains(":") ? "[\(host)]" : host) + ":\(boundPort)"
    }

    deinit { close(fd) }

    /// Accepts one waiting connection and answers it with `metrics()` for `/metrics`.
    func serveOne(metrics: () -> String) {
        let c = accept(fd, nil, nil)
        guard c >= 0 else { return }
        defer { close(c) }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while request.count < 16384 {
            let n = read(c, &buffer, buffer.count)
            if n <= 0 { break }
            request += buffer[0..<n]
            if String(decoding: request, as: UTF8.self).contains("\r\n\r\n") { break }
        }
        let response = Self.respond(to: String(decoding: request, as: UTF8.self), metrics: metrics)
        var out = Array(response.utf8)[...]
        while !out.isEmpty {
            let n = out.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out = out.dropFirst(n)
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
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"][code] ?? "Error"
        return "HTTP/1.0 \(code) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
            + (head ? "" : body)
    }
}
