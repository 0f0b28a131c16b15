import Foundation

/// Order of the device rows.
public enum SortKey: String, CaseIterable, Sendable {
    /// GPUs first, then NICs, each by name.
    case name
    /// Transmit rate, busiest first.
    case tx
    /// Receive rate, busiest first.
    case rx
    /// Transmit + receive, busiest first.
    case total

    /// The next key (the `s` key cycles through them).
    public var next: SortKey {
        let all = SortKey.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

/// How the text screen is laid out.
public struct ScreenOptions: Sendable {
    public var width: Int = 120
    public var height: Int = 40
    public var sort: SortKey = .name
    /// Row (in sorted order) the cursor is on; shown with `>` in the interactive view.
    public var selected: Int? = nil
    /// Show the selected device's ports and counters under the table.
    public var detail: Bool = false
    /// ANSI colour (only on a terminal).
    public var color: Bool = false
    /// Show the key help line (interactive view).
    public var keyHelp: Bool = false
    public var threshold: Double = 1.5

    public init() {}
}

/// Renders a snapshot as lines of text: the interactive screen, `--once`, and the plain stream.
public enum ScreenView {
    /// Counter names behind the DROP/s and RETR/s columns (first found is used for retransmits).
    static let dropCounters = ["rx_drops", "tx_drops"]
    static let retransCounters = ["retrans_pkts", "roce_adp_retrans"]

    /// Devices in the order the sort key gives.
    public static func sorted(_ devices: [DeviceRates], by key: SortKey) -> [DeviceRates] {
        func tx(_ d: DeviceRates) -> Double { d.totals["tx_bytes"] ?? -1 }
        func rx(_ d: DeviceRates) -> Double { d.totals["rx_bytes"] ?? -1 }
        let byName = devices.sorted { ($0.kind == .gpu ? 0 : 1, natural($0.name)) < ($1.kind == .gpu ? 0 : 1, natural($1.name)) }
        switch key {
        case .name: return byName
        case .tx: return stable(byName) { tx($0) > tx($1) }
        case .rx: return stable(byName) { rx($0) > rx($1) }
        case .total: return stable(byName) { tx($0) + rx($0) > tx($1) + rx($1) }
        }
    }

    /// The screen's lines, each at most `options.width` columns (ANSI codes excluded).
    public static func render(_ snap: Snapshot, options o: ScreenOptions) -> [String] {
        var lines: [String] = []
        let every = snap.interval.map { "over " + Format.fixed($0, 2) + "s" } ?? "first sample, rates after the next"
        lines.append("gpucomm top  \(Format.isoTime(snap.sample.wallClock))  \(every)  sort \(o.sort.rawValue)  imbalance > \(Format.fixed(o.threshold, 2))")
        if o.keyHelp { lines.append("keys: q quit  s sort  up/down select  enter detail") }
        lines.append("")
        let header = " " + Format.pad("DEVICE", 10) + Format.pad("KIND", 5) + Format.pad("UP", 6, right: true)
            + Format.pad("TX", 12, right: true) + Format.pad("RX", 12, right: true)
            + Format.pad("TXPKT", 10, right: true) + Format.pad("RXPKT", 10, right: true)
            + Format.pad("DROP", 8, right: true) + Format.pad("RETR", 8, right: true) + "  IMBALANCE"
        lines.append(color(header, "1", o.color))
        let rows = sorted(snap.devices, by: o.sort)
        let imbalance = Dictionary(snap.imbalance.map { ($0.group, $0) }, uniquingKeysWith: { a, _ in a })
        for (i, d) in rows.enumerated() {
            let up = d.ports.filter(\.isUp).count
            let mark = (o.selected == i) ? ">" : " "
            var line = mark + Format.pad(d.name, 10) + Format.pad(d.kind == .gpu ? "nvl" : "rdma", 5)
                + Format.pad("\(up)/\(d.ports.count)", 6, right: true)
                + Format.pad(Format.rate(d.totals["tx_bytes"]), 12, right: true)
                + Format.pad(Format.rate(d.totals["rx_bytes"]), 12, right: true)
                + Format.pad(Format.perSecond(d.totals["tx_pkts"]), 10, right: true)
                + Format.pad(Format.perSecond(d.totals["rx_pkts"]), 10, right: true)
                + Format.pad(Format.perSecond(sum(d, dropCounters)), 8, right: true)
                + Format.pad(Format.perSecond(first(d, retransCounters)), 8, right: true)
            if let imb = imbalance[d.name] {
                let cell = "  links " + ratioText(imb)
                line += imb.flagged ? color(cell + (o.color ? "" : " !"), "1;31", o.color) : cell
            } else if d.isNew && snap.interval != nil {
                line += "  (new)"
            }
            lines.append(o.selected == i && o.color ? color(line, "7", true) : line)
        }
        if rows.isEmpty { lines.append("  (no devices)") }
        if let nics = imbalance["nics"] {
            lines.append("")
            let text = "NICs (\(nics.members)): imbalance max/mean " + ratioText(nics)
                + ((nics.rx ?? 0) > o.threshold ? nics.busiestRx.map { "  busiest rx \($0)" } ?? "" : "")
                + ((nics.tx ?? 0) > o.threshold ? nics.busiestTx.map { "  busiest tx \($0)" } ?? "" : "")
            lines.append(nics.flagged ? color(text + (o.color ? "" : "  ! IMBALANCED"), "1;31", o.color) : text)
        }
        if o.detail, let sel = o.selected, sel < rows.count {
            lines.append("")
            lines += detail(rows[sel], options: o)
        }
        if !snap.events.isEmpty {
            lines.append("")
            lines += snap.events.prefix(5).map { "event: \($0)" }
        }
        return lines.map { clip($0, o.width) }
    }

    /// Ports and every moving counter of one device.
    static func detail(_ d: DeviceRates, options o: ScreenOptions) -> [String] {
        var lines = ["\(d.name) (\(d.kind == .gpu ? "GPU, NVLink" : "RDMA device"))"]
        for (k, v) in d.info.sorted(by: { $0.key < $1.key }) { lines.append("  \(k): \(v)") }
        let raw = d.kind == .gpu
        lines.append(color("  " + Format.pad("PORT", 6) + Format.pad("STATE", 10) + Format.pad("TX", 12, right: true)
            + Format.pad("RX", 12, right: true) + Format.pad(raw ? "TX RAW" : "TXPKT", 12, right: true)
            + Format.pad(raw ? "RX RAW" : "RXPKT", 12, right: true), "1", o.color))
        for p in d.ports {
            let a = raw ? Format.rate(p.rate("tx_raw_bytes")) : Format.perSecond(p.rate("tx_pkts"))
            let b = raw ? Format.rate(p.rate("rx_raw_bytes")) : Format.perSecond(p.rate("rx_pkts"))
            lines.append("  " + Format.pad(p.port, 6) + Format.pad(p.state ?? "-", 10)
                + Format.pad(Format.rate(p.rate("tx_bytes")), 12, right: true) + Format.pad(Format.rate(p.rate("rx_bytes")), 12, right: true)
                + Format.pad(a, 12, right: true) + Format.pad(b, 12, right: true))
        }
        let shown: Set<String> = ["tx_bytes", "rx_bytes", "tx_pkts", "rx_pkts", "tx_raw_bytes", "rx_raw_bytes"]
        let others = d.totals.filter { !shown.contains($0.key) && $0.value > 0 }.sorted { $0.key < $1.key }
        if !others.isEmpty {
            lines.append("  other counters moving (per second, all ports):")
            for (k, v) in others { lines.append("    " + Format.pad(k, 28) + Format.perSecond(v)) }
        }
        return lines
    }

    static func ratioText(_ i: Imbalance) -> String {
        "tx " + (i.tx.map { Format.fixed($0, 2) } ?? "-") + " rx " + (i.rx.map { Format.fixed($0, 2) } ?? "-")
    }

    static func sum(_ d: DeviceRates, _ names: [String]) -> Double? {
        let vs = names.compactMap { d.totals[$0] }
        return vs.isEmpty ? nil : vs.reduce(0, +)
    }

    static func first(_ d: DeviceRates, _ names: [String]) -> Double? { names.lazy.compactMap { d.totals[$0] }.first }

    static func color(_ s: String, _ code: String, _ on: Bool) -> String { on ? "\u{1B}[\(code)m" + s + "\u{1B}[0m" : s }

    /// Cuts a line to `width` visible columns, leaving ANSI escape sequences whole.
    static func clip(_ s: String, _ width: Int) -> String {
        var out = ""
        var visible = 0
        var inEscape = false
        for ch in s {
            if ch == "\u{1B}" { inEscape = true; out.append(ch); continue }
            if inEscape { out.append(ch); if ch.isLetter { inEscape = false }; continue }
            if visible < width { out.append(ch); visible += 1 }
        }
        return out
    }

    /// `efa_10` after `efa_9`: compares digit runs as numbers.
    static func natural(_ s: String) -> String {
        var parts: [String] = []
        var current = ""
        var digits = false
        for ch in s {
            if ch.isNumber != digits, !current.isEmpty { parts.append(current); current = "" }
            digits = ch.isNumber
            current.append(ch)
        }
        if !current.isEmpty { parts.append(current) }
        return parts.map { p in p.first?.isNumber == true ? String(repeating: "0", count: max(0, 12 - p.count)) + p : p }.joined()
    }

    static func stable(_ a: [DeviceRates], _ before: (DeviceRates, DeviceRates) -> Bool) -> [DeviceRates] {
        a.enumerated().sorted { x, y in
            if before(x.element, y.element) { return true }
            if before(y.element, x.element) { return false }
            return x.offset < y.offset
        }.map(\.element)
    }
}
