import Foundation
import Testing
@testable import Monitor

/// Collects the monitor's output from its loop (single-threaded, so a plain box suffices).
final class Collected: @unchecked Sendable {
    var text = ""
    var diagnostics: [String] = []
}

@Suite(.serialized) struct LiveMonitorTests {
    func run(_ config: MonitorConfig, _ readings: [[DeviceReading]]) throws -> Collected {
        let box = Collected()
        let monitor = LiveMonitor(sampler: Sampler(sources: [ScriptedSource(readings)]), config: config,
                                  output: { box.text += $0 }, diagnostics: { box.diagnostics.append($0) })
        try monitor.run()
        return box
    }

    @Test func jsonStreamsOneLinePerSampleAndRecordsATrace() throws {
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("gpucomm-top-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: trace) }
        var c = MonitorConfig()
        c.view = .json
        c.interval = 0.02
        c.count = 3
        c.record = trace
        let readings = (0..<5).map { i in [Support.nic("efa_0", tx: UInt64(i) * 1000, rx: 0), Support.nic("efa_1", tx: 0, rx: 0)] }
        let out = try run(c, readings)
        let lines = out.text.split(separator: "\n")
        #expect(lines.count == 3)
        for line in lines {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            #expect(o["interval_s"] as? Double != nil)
        }
        let events = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: trace))) as! [[String: Any]]
        #expect(events.filter { $0["ph"] as? String == "C" && $0["name"] as? String == "efa_0 GB/s" }.count == 3)
    }

    @Test func durationStopsTheLoop() throws {
        var c = MonitorConfig()
        c.view = .text
        c.interval = 0.05
        c.duration = 0.2
        let start = Date()
        let out = try run(c, [[Support.nic("efa_0", tx: 0, rx: 0)]])
        let took = Date().timeIntervalSince(start)
        #expect(took >= 0.19 && took < 2)
        #expect(out.text.components(separatedBy: "gpucomm top").count - 1 >= 3)
    }

    @Test func prometheusOnceAndFailingSourceIsReportedOnce() throws {
        struct Broken: CounterSource {
            let name = "broken"
            func read() throws -> [DeviceReading] { throw MonitorError("no such thing") }
        }
        let box = Collected()
        var c = MonitorConfig()
        c.view = .prometheus
        c.interval = 0.01
        let monitor = LiveMonitor(sampler: Sampler(sources: [ScriptedSource([[Support.nic("efa_0", tx: 0, rx: 0)]]), Broken()]),
                                  config: c, output: { box.text += $0 }, diagnostics: { box.diagnostics.append($0) })
        try monitor.run()
        #expect(box.text.contains("gpucomm_rate_per_second{kind=\"nic\",device=\"efa_0\",port=\"1\",counter=\"tx_bytes\"} 0.0"))
        #expect(box.diagnostics == ["gpucomm top: broken: no such thing"])
    }
}

@Suite struct MetricsServerTests {
    @Test func parsesListenAddresses() throws {
        #expect(try MetricsServer.parse("127.0.0.1:9464") == ("127.0.0.1", 9464))
        #expect(try MetricsServer.parse("[::1]:80") == ("::1", 80))
        #expect(try MetricsServer.parse(":9464") == ("0.0.0.0", 9464))
        #expect(throws: MonitorError.self) { try MetricsServer.parse("localhost") }
        #expect(throws: MonitorError.self) { try MetricsServer.parse("1.2.3.4:99999") }
        #expect(throws: MonitorError.self) { try MetricsServer(listen: "localhost:9464") }
    }

    @Test func answersRequests() {
        let ok = MetricsServer.respond(to: "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") { "m 1\n" }
        #expect(ok.hasPrefix("HTTP/1.0 200 OK\r\n"))
        #expect(ok.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(ok.hasSuffix("\r\n\r\nm 1\n"))
        #expect(MetricsServer.respond(to: "GET /nope HTTP/1.1\r\n\r\n") { "" }.hasPrefix("HTTP/1.0 404"))
        #expect(MetricsServer.respond(to: "POST /metrics HTTP/1.1\r\n\r\n") { "" }.hasPrefix("HTTP/1.0 405"))
        #expect(MetricsServer.respond(to: "HEAD /metrics HTTP/1.1\r\n\r\n") { "m 1\n" }.hasSuffix("\r\n\r\n"))
    }

    @Test func servesOverLoopback() throws {
        let server = try MetricsServer(listen: "127.0.0.1:0")
        let port = UInt16(server.boundAddress.split(separator: ":").last!)!
        #expect(port != 0)
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        let request = Array("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
        // The connection waits in the backlog; the server answers it from this same thread.
        server.serveOne { "gpucomm_test 42\n" }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { break }
            reply += buffer[0..<n]
        }
        let text = String(decoding: reply, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.0 200 OK"))
        #expect(text.hasSuffix("gpucomm_test 42\n"))
    }
}
