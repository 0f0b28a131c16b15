import Foundation

/// `--record FILE`: the counters as a Chrome/Perfetto trace (Trace Event Format, JSON array form).
///
/// One process track per device (`gpu0 NVLink`, `efa_0 RDMA`) holding a counter track (`"ph":"C"`)
/// for the device total and one per port, in GB/s (10^9 bytes/s); imbalance ratios on a
/// `gpucomm imbalance` track; hot-plug and resets as instant events. Timestamps are wall-clock
/// microseconds since 1970, so the file lines up with other traces taken on the same host.
/// Each event is written as it happens; the closing `]` is written at the end, and the format
/// allows it to be missing, so a killed recorder still leaves a readable file.
public struct TraceFormatter: Sendable {
    private var pids: [String: Int] = [:]
    private var wroteAny = false

    public init() {}

    /// Text to append for this snapshot (empty for a snapshot without rates).
    public mutating func events(_ snap: Snapshot) -> String {
        var events: [String] = []
        let ts = Format.fixed(snap.sample.wallClock * 1e6, 0)
        if pids.isEmpty {
            pids["gpucomm imbalance"] = 1
            events.append(#"{"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":"gpucomm imbalance"}}"#)
        }
        for d in snap.devices where pids[d.name] == nil {
            let pid = pids.count + 1
            pids[d.name] = pid
            let label = d.name + (d.kind == .gpu ? " NVLink" : " RDMA")
            events.append("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":\(pid),\"tid\":0,\"args\":{\"name\":\(Format.json(label))}}")
            events.append("{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":\(pid),\"tid\":0,\"args\":{\"sort_index\":\(pid)}}")
        }
        if snap.interval != nil {
            for d in snap.devices {
                let pid = pids[d.name]!
                events.append(counter(d.name + " GB/s", pid, ts, d.totals))
                if d.ports.count > 1 {
                    for p in d.ports {
                        events.append(counter((d.kind == .gpu ? "link " : "port ") + p.port + " GB/s", pid, ts, p.rates))
                    }
                }
            }
            for i in snap.imbalance where i.tx != nil || i.rx != nil {
                events.append("{\"name\":\(Format.json(i.group + " max/mean")),\"ph\":\"C\",\"ts\":\(ts),\"pid\":1,\"tid\":0,\"args\":{\"tx\":\(Format.fixed(i.tx ?? 0, 3)),\"rx\":\(Format.fixed(i.rx ?? 0, 3))}}")
            }
        }
        for e in snap.events {
            events.append("{\"name\":\(Format.json(e.description)),\"ph\":\"i\",\"s\":\"g\",\"ts\":\(ts),\"pid\":1,\"tid\":0}")
        }
        guard !events.isEmpty else { return "" }
        let text = (wroteAny ? ",\n" : "[\n") + events.joined(separator: ",\n")
        wroteAny = true
        return text
    }

    /// Text that ends the file.
    public func closing() -> String { wroteAny ? "\n]\n" : "[]\n" }

    func counter(_ name: String, _ pid: Int, _ ts: String, _ rates: [String: Double]) -> String {
        let tx = Format.fixed((rates["tx_bytes"] ?? 0) / 1e9, 3)
        let rx = Format.fixed((rates["rx_bytes"] ?? 0) / 1e9, 3)
        return "{\"name\":\(Format.json(name)),\"ph\":\"C\",\"ts\":\(ts),\"pid\":\(pid),\"tid\":0,\"args\":{\"tx\":\(tx),\"rx\":\(rx)}}"
    }
}
