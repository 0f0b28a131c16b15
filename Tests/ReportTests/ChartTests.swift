import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Report

/// Charts: every chart type against its golden SVG, byte for byte, and the layout rules.
@Suite struct ChartTests {
    static func sizeSweep(_ name: String, scale: Double) -> Series {
        Series(name: name, points: (10...30).map { e in
            let size = pow(2, Double(e))
            return Point(x: size, y: scale * size / (size + 4_000_000))
        })
    }

    static let lineBytes = Chart(
        id: "line_bytes", title: "all_reduce (nccl): bus bandwidth vs message size",
        x: Axis(label: "message size", unit: "bytes", scale: .log2, format: .bytes),
        y: Axis(label: "bus bandwidth", unit: "GB/s"),
        series: [sizeSweep("2 GPUs", scale: 180), sizeSweep("4 GPUs", scale: 350), sizeSweep("8 GPUs", scale: 470)])

    static let lineGPUs = Chart(
        id: "line_gpus", title: "alltoall: algorithm bandwidth vs GPUs", subtitle: "at the largest size all of them measured",
        x: Axis(label: "GPUs", unit: "count", scale: .log2), y: Axis(label: "algorithm bandwidth", unit: "GB/s"),
        series: [Series(name: "nccl, 32 MiB", points: [Point(x: 16, y: 47.78), Point(x: 32, y: 35.56), Point(x: 64, y: 29.13), Point(x: 256, y: 19.79)]),
                 Series(name: "nvshmem_host, 32 MiB", points: [Point(x: 256, y: 37.2), Point(x: 16, y: 36.98), Point(x: 64, y: 37.1)])],
        references: [Reference(name: "link peak 50.00 GB/s", y: 50)])

    static let bars = Chart(
        id: "bars", title: "jacobi: parallel efficiency by variant", kind: .groupedBar,
        x: Axis(label: "GPUs", unit: ""), y: Axis(label: "efficiency", unit: "%"),
        series: [Series(name: "NCCL", points: [Point(x: 0, y: 93.64), Point(x: 1, y: 98.06), Point(x: 2, y: 94.32)]),
                 Series(name: "NVSHMEM", points: [Point(x: 0, y: 69.55), Point(x: 2, y: 28.28)]),
                 Series(name: "NVSHMEM w/ Block Comm + Overlap + Neighborhood Sync", points: [Point(x: 0, y: 100), Point(x: 1, y: 99.85), Point(x: 2, y: 99.22)])],
        categories: ["16 GPUs", "32 GPUs", "64 GPUs"])

    /// Ten series: colours repeat after eight, so markers and dashes must change.
    static let manySeries = Chart(
        id: "many", title: "ten series", x: Axis(label: "chunk size", unit: "bytes", scale: .log2, format: .bytes),
        y: Axis(label: "time", unit: "µs"),
        series: (0..<10).map { i in Series(name: "series \(i)", points: [Point(x: 4096, y: Double(i)), Point(x: 65536, y: Double(i) * 2 + 1)]) })

    /// Series two orders of magnitude apart on a log2 y axis.
    static let lineLogY = Chart(
        id: "line_log_y", title: "alltoall: nvshmem_device vs nvshmem_host", subtitle: "log scale",
        x: Axis(label: "GPUs", unit: "count", scale: .log2), y: Axis(label: "algorithm bandwidth", unit: "GB/s", scale: .log2),
        series: [Series(name: "nvshmem_device, 2 MiB", points: [Point(x: 16, y: 2.405), Point(x: 256, y: 2.267)], colour: 0, shape: 0),
                 Series(name: "nvshmem_host, 2 MiB", points: [Point(x: 16, y: 33.48), Point(x: 256, y: 34.46)], colour: 1, shape: 0),
                 Series(name: "nvshmem_device, 16 MiB", points: [Point(x: 16, y: 0.233), Point(x: 256, y: 0.23)], colour: 0, shape: 1)])

    static let all = ["line_bytes": lineBytes, "line_gpus": lineGPUs, "bars": bars, "many_series": manySeries, "line_log_y": lineLogY]

    @Test(arguments: ["line_bytes", "line_gpus", "bars", "many_series", "line_log_y"])
    func golden(name: String) throws {
        try Golden.check(SVGWriter.render(Self.all[name]!), against: name + ".svg")
    }

    @Test func renderingIsByteStable() {
        for c in [Self.lineBytes, Self.lineGPUs, Self.bars, Self.manySeries, Self.lineLogY] {
            #expect(SVGWriter.render(c) == SVGWriter.render(c))
        }
    }

    @Test func svgIsWellFormedXML() throws {
        for c in [Self.lineBytes, Self.lineGPUs, Self.bars, Self.manySeries, Self.lineLogY] {
            _ = try XMLDocument(xmlString: SVGWriter.render(c))
        }
    }

    @Test func sizeAxisTicksLandOn1K1M1G() {
        let s = AxisScale.log2(min: 1024, max: 1_073_741_824)
        let labels = s.ticks.map(Fmt.sizeTick)
        #expect(labels.contains("1K") && labels.contains("1M") && labels.contains("1G"))
        #expect(s.ticks.count <= 11)
        #expect(s.fraction(1024) > 0 && s.fraction(1_073_741_824) < 1)
    }

    @Test func logAxisBelowOne() {
        let s = AxisScale.log2(min: 0.23, max: 34.46)
        #expect(s.ticks.first == 0.125 && s.ticks.last == 64)
        #expect(s.ticks.map(Fmt.trimmed).contains("0.5"))
    }

    @Test func narrowLog2AxisHasEveryPower() {
        #expect(AxisScale.log2(min: 16, max: 256).ticks == [16, 32, 64, 128, 256])
        #expect(AxisScale.log2(min: 8, max: 8).ticks == [4, 8, 16])
    }

    @Test(arguments: [(477.71, 500.0), (2.415, 2.5), (0, 1), (99.99, 100)])
    func linearAxisCoversTheData(max: Double, top: Double) {
        let s = AxisScale.linear(max: max)
        #expect(s.ticks.first == 0)
        #expect(s.ticks.last == top)
        #expect(s.ticks.count >= 3 && s.ticks.count <= 11)
    }

    @Test func formatting() {
        #expect(Fmt.size(32 << 20) == "32 MiB")
        #expect(Fmt.size(1536) == "1.50 KiB")
        #expect(Fmt.size(8) == "8 B")
        #expect(Fmt.sizeTick(Double(1 << 30)) == "1G")
        #expect(Fmt.sizeTick(512) == "512")
        #expect(Fmt.fixed(-0.0001, 1) == "0.0")
        #expect(Fmt.value(477.71) == "477.7")
        #expect(Fmt.value(2.4151) == "2.415")
        #expect(Fmt.percent(0.5149) == "51.5%")
    }

    @Test func legendRowsStayInsideTheChart() {
        let entries = SVGWriter.legendEntries(Self.manySeries)
        let rows = SVGWriter.layoutLegend(entries)
        #expect(rows.count > 1)
        #expect(rows.flatMap { $0 }.count == 10)
        for row in rows {
            #expect(row.last!.x + row.last!.width <= SVGWriter.width)
            // Entries in a row do not overlap.
            for (a, b) in zip(row, row.dropFirst()) { #expect(a.x + a.width <= b.x) }
        }
    }

    @Test func xTickLabelsDoNotOverlap() {
        let s = AxisScale.log2(min: 1, max: 1_099_511_627_776)
        let plotW = SVGWriter.plotRight - SVGWriter.plotLeft
        let xs = s.ticks.map { s.fraction($0) * plotW }
        let widths = s.ticks.map { Double(Fmt.sizeTick($0).count) * SVGWriter.charWidth }
        for i in 1..<xs.count { #expect(xs[i] - xs[i - 1] > (widths[i] + widths[i - 1]) / 2 + 4) }
    }

    @Test func longTitlesWrap() {
        let lines = SVGWriter.wrap(String(repeating: "word ", count: 60), width: 700, charWidth: 8)
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { Double($0.count) * 8 <= 700 })
    }
}
