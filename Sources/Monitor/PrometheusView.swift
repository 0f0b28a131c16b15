import Foundation

/// Prometheus text exposition (format 0.0.4) of one snapshot: `--prometheus` and `--listen`'s `/metrics`.
///
/// Metrics (labels `kind` = gpu|nic, `device`, `port`, `counter`):
/// `gpucomm_counter_total` cumulative value in the counter's unit (bytes for `*_bytes`),
/// `gpucomm_rate_per_second` the rate over the last interval, `gpucomm_port_up` 1/0,
/// `gpucomm_imbalance_ratio{group,direction}` max/mean, `gpucomm_imbalance_flagged{group}` 1/0.
public enum PrometheusView {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func text(_ snap: Snapshot) -> String {
        var out = ""
        let devices = snap.sample.devices.sorted { $0.name < $1.name }
        out += "# HELP gpucomm_counter_total Cumulative counter in its unit (bytes for *_bytes; IB words and NVML KiB converted).\n"
        out += "# TYPE gpucomm_counter_total counter\n"
        for d in devices { for p in d.ports { for c in p.counters.sorted(by: { $0.name < $1.name }) {
            out += "gpucomm_counter_total" + labels(d.kind, d.name, p.port, c.name) + " " + Format.cumulative(c) + "\n"
        } } }
        out += "# HELP gpucomm_rate_per_second Counter rate over the last interval (bytes/s for *_bytes).\n"
        out += "# TYPE gpucomm_rate_per_second gauge\n"
        for d in snap.devices.sorted(by: { $0.name < $1.name }) { for p in d.ports { for (k, v) in p.rates.sorted(by: { $0.key < $1.key }) {
            out += "gpucomm_rate_per_second" + labels(d.kind, d.name, p.port, k) + " " + Format.fixed(v, 1) + "\n"
        } } }
        out += "# HELP gpucomm_port_up 1 when the NVLink link or RDMA port is up.\n# TYPE gpucomm_port_up gauge\n"
        for d in snap.devices.sorted(by: { $0.name < $1.name }) { for p in d.ports {
            out += "gpucomm_port_up{kind=\"\(d.kind.rawValue)\",device=\(q(d.name)),port=\(q(p.port))} \(p.isUp ? 1 : 0)\n"
        } }
        out += "# HELP gpucomm_imbalance_ratio max/mean rate across NICs (group nics) or across one GPU's NVLinks.\n"
        out += "# TYPE gpucomm_imbalance_ratio gauge\n"
        for i in snap.imbalance {
            if let tx = i.tx { out += "gpucomm_imbalance_ratio{group=\(q(i.group)),direction=\"tx\"} \(Format.fixed(tx, 4))\n" }
            if let rx = i.rx { out += "gpucomm_imbalance_ratio{group=\(q(i.group)),direction=\"rx\"} \(Format.fixed(rx, 4))\n" }
        }
        out += "# HELP gpucomm_imbalance_flagged 1 when the group's imbalance passed the threshold while carrying traffic.\n"
        out += "# TYPE gpucomm_imbalance_flagged gauge\n"
        for i in snap.imbalance { out += "gpucomm_imbalance_flagged{group=\(q(i.group))} \(i.flagged ? 1 : 0)\n" }
        return out
    }

    static func labels(_ kind: DeviceKind, _ device: String, _ port: String, _ counter: String) -> String {
        "{kind=\"\(kind.rawValue)\",device=\(q(device)),port=\(q(port)),counter=\(q(counter))}"
    }

    /// A label value: quoted, with `\`, `"` and newline escaped.
    static func q(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
