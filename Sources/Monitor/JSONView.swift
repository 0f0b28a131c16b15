import Foundation

/// `--json`: one JSON object per sample on one line (NDJSON), keys in a fixed order.
///
/// Rates are per second in the counter's unit (bytes/s for `*_bytes`); `counters` are the
/// cumulative values in that unit (IB words already ×4, NVML KiB already ×1024).
public enum JSONView {
    public static func line(_ snap: Snapshot) -> String {
        var s = "{\"time\":" + Format.json(Format.isoTime(snap.sample.wallClock))
        s += ",\"elapsed_s\":" + Format.fixed(snap.elapsed, 3)
        s += ",\"interval_s\":" + (snap.interval.map { Format.fixed($0, 3) } ?? "null")
        let readings = Dictionary(snap.sample.devices.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        s += ",\"devices\":[" + snap.devices.map { device($0, readings[$0.name]) }.joined(separator: ",") + "]"
        s += ",\"imbalance\":[" + snap.imbalance.map(imbalance).joined(separator: ",") + "]"
        s += ",\"events\":[" + snap.events.map { Format.json($0.description) }.joined(separator: ",") + "]}"
        return s
    }

    static func device(_ d: DeviceRates, _ reading: DeviceReading?) -> String {
        var s = "{\"name\":" + Format.json(d.name) + ",\"kind\":" + Format.json(d.kind.rawValue)
        s += ",\"info\":{" + d.info.sorted { $0.key < $1.key }.map { Format.json($0.key) + ":" + Format.json($0.value) }.joined(separator: ",") + "}"
        s += ",\"tx_Bps\":" + number(d.totals["tx_bytes"]) + ",\"rx_Bps\":" + number(d.totals["rx_bytes"])
        s += ",\"ports\":[" + d.ports.map { p in
            let counters = reading?.ports.first { $0.port == p.port }?.counters ?? []
            var t = "{\"port\":" + Format.json(p.port) + ",\"state\":" + (p.state.map(Format.json) ?? "null")
            t += ",\"rates\":{" + p.rates.sorted { $0.key < $1.key }.map { Format.json($0.key) + ":" + Format.fixed($0.value, 1) }.joined(separator: ",") + "}"
            t += ",\"counters\":{" + counters.sorted { $0.name < $1.name }.map { Format.json($0.name) + ":" + Format.cumulative($0) }.joined(separator: ",") + "}}"
            return t
        }.joined(separator: ",") + "]}"
        return s
    }

    static func imbalance(_ i: Imbalance) -> String {
        "{\"group\":" + Format.json(i.group) + ",\"members\":\(i.members),\"tx\":" + (i.tx.map { Format.fixed($0, 3) } ?? "null")
            + ",\"rx\":" + (i.rx.map { Format.fixed($0, 3) } ?? "null")
            + ",\"busiest_tx\":" + (i.busiestTx.map(Format.json) ?? "null") + ",\"busiest_rx\":" + (i.busiestRx.map(Format.json) ?? "null")
            + ",\"flagged\":\(i.flagged)}"
    }

    static func number(_ v: Double?) -> String { v.map { Format.fixed($0, 1) } ?? "null" }
}
