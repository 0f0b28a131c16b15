import Foundation
import Testing
@testable import Monitor

@Suite struct ViewTests {
    static let snap = Support.snapshots(Support.scenario())[1]

    @Test func screenGolden() {
        var o = ScreenOptions()
        o.width = 110
        Support.checkGolden(ScreenView.render(Self.snap, options: o).joined(separator: "\n") + "\n", "screen.txt")
    }

    @Test func screenDetailSortedByRxGolden() {
        var o = ScreenOptions()
        o.width = 110
        o.sort = .rx
        o.selected = 0
        o.detail = true
        o.keyHelp = true
        let lines = ScreenView.render(Self.snap, options: o)
        // efa_0 receives 12 GiB/s: first by rx, and its detail is shown.
        #expect(lines.contains { $0.hasPrefix(">efa_0") })
        Support.checkGolden(lines.joined(separator: "\n") + "\n", "screen-detail.txt")
    }

    @Test func screenColourHighlightsImbalanceAndFitsWidth() {
        var o = ScreenOptions()
        o.width = 60
        o.color = true
        let lines = ScreenView.render(Self.snap, options: o)
        #expect(lines.contains { $0.contains("\u{1B}[1;31m") && $0.contains("NICs (4)") })
        for line in lines {
            let visible = line.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
            #expect(visible.count <= 60)
        }
    }

    @Test func firstSampleScreenSaysRatesComeNext() {
        let first = Support.snapshots(Support.scenario())[0]
        let lines = ScreenView.render(first, options: ScreenOptions())
        #expect(lines[0].contains("first sample"))
        #expect(lines.contains { $0.hasPrefix(" efa_0") && $0.contains("-") })
    }

    @Test func sortKeysOrderRows() {
        let names = { (k: SortKey) in ScreenView.sorted(Self.snap.devices, by: k).map(\.name) }
        #expect(names(.name) == ["gpu0", "gpu1", "efa_0", "efa_1", "efa_2", "efa_3"])
        #expect(names(.rx).first == "efa_0")
        #expect(names(.tx) == ["gpu1", "gpu0", "efa_0", "efa_1", "efa_2", "efa_3"])
        #expect(SortKey.name.next == .tx && SortKey.total.next == .name)
        #expect(ScreenView.natural("efa_10") > ScreenView.natural("efa_9"))
    }

    @Test func jsonGoldenAndParses() throws {
        let line = JSONView.line(Self.snap)
        #expect(!line.contains("\n"))
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        let devices = object["devices"] as! [[String: Any]]
        #expect(devices.count == 6)
        let efa0 = devices.first { $0["name"] as? String == "efa_0" }!
        #expect(efa0["rx_Bps"] as? Double == 12.0 * 1_073_741_824)
        Support.checkGolden(line + "\n", "sample.json")
    }

    @Test func prometheusGolden() {
        let text = PrometheusView.text(Self.snap)
        #expect(text.contains("gpucomm_imbalance_flagged{group=\"nics\"} 1"))
        #expect(text.contains("gpucomm_counter_total{kind=\"gpu\",device=\"gpu0\",port=\"0\",counter=\"tx_bytes\"} \((100 + (1 << 20)) * 1024)"))
        Support.checkGolden(text, "metrics.prom")
    }

    @Test func traceGoldenAndIsValidJSON() throws {
        var f = TraceFormatter()
        var text = ""
        for s in Support.snapshots(Support.scenario()) { text += f.events(s) }
        text += f.closing()
        let events = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [[String: Any]]
        #expect(events.contains { $0["ph"] as? String == "C" && $0["name"] as? String == "efa_0 GB/s" })
        #expect(events.filter { $0["ph"] as? String == "M" && $0["name"] as? String == "process_name" }.count == 7)
        Support.checkGolden(text, "trace.json")
    }

    @Test func formats() {
        #expect(Format.rate(0) == "0 B/s")
        #expect(Format.rate(812_000) == "812 kB/s")
        #expect(Format.rate(12_345_678_901) == "12.3 GB/s")
        #expect(Format.rate(nil) == "-")
        #expect(Format.perSecond(1500) == "1.50k/s")
        #expect(Format.isoTime(Support.wallStart + 1.2346) == "2026-11-21T12:00:01.235Z")
        #expect(Format.json("a\"b\n") == "\"a\\\"b\\n\"")
        #expect(Format.cumulative(CounterReading(name: "x", raw: UInt64.max, scale: 4)) == "73786976294838206464")
    }

    @Test func keys() {
        #expect(parseKeys(Array("qs".utf8)) == [.quit, .sort])
        #expect(parseKeys([0x1B, 0x5B, 0x41, 0x1B, 0x5B, 0x42, 0x0D, 0x1B]) == [.up, .down, .toggleDetail, .closeDetail])
        #expect(parseKeys([0x03]) == [.quit])
    }
}
