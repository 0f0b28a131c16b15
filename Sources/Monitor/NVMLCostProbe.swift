import Foundation
import GPU

/// What each NVML call shape costs here (`gpucomm top --probe-nvml`): CPU time (user + system, this
/// thread) and wall time per call, and NVML's own `latencyUsec`, so the sampling strategy can be
/// chosen from measurements: does one call for many fields or links cost one driver round trip or
/// many, what do start-up and static facts cost, what does GPM cost.
public enum NVMLCostProbe {
    /// One measured shape.
    public struct Row: Sendable {
        public var name: String
        public var valuesPerCall: Int
        public var callsPerRep: Int
        public var reps: Int
        public var userMs: Double
        public var sysMs: Double
        public var wallMs: Double
        public var latencyUs: Double?
        public var status: String

        /// CPU and wall milliseconds per repetition.
        public var cpuMsPerRep: Double { (userMs + sysMs) / Double(max(1, reps)) }
        public var wallMsPerRep: Double { wallMs / Double(max(1, reps)) }
    }

    /// This thread's CPU time (user, system) in seconds (`getrusage(RUSAGE_THREAD)`).
    static func threadCPU() -> (Double, Double) {
        var r = rusage()
        getrusage(1 /* RUSAGE_THREAD (Linux), not exported by Glibc */, &r)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (s(r.ru_utime), s(r.ru_stime))
    }

    /// Runs `body` `reps` times and measures it.
    static func measure(_ name: String, values: Int, calls: Int, reps: Int, _ body: () throws -> Double?) -> Row {
        let (u0, s0) = threadCPU()
        let t0 = SampleClock.system.monotonic()
        var latency: [Double] = []
        var status = "ok"
        for _ in 0..<reps {
            do { if let l = try body() { latency.append(l) } } catch { status = "\(error)"; break }
        }
        let t1 = SampleClock.system.monotonic()
        let (u1, s1) = threadCPU()
        return Row(name: name, valuesPerCall: values, callsPerRep: calls, reps: reps, userMs: 1000 * (u1 - u0), sysMs: 1000 * (s1 - s0),
                   wallMs: 1000 * (t1 - t0), latencyUs: latency.isEmpty ? nil : latency.reduce(0, +) / Double(latency.count), status: status)
    }

    /// Measures every shape on the first GPU (NVML order) and whole samples of every `top` strategy on all GPUs.
    public static func run(reps: Int = 40, search: LibrarySearch = LibrarySearch()) throws -> [Row] {
        var rows: [Row] = []
        let (u0, s0) = threadCPU()
        let t0 = SampleClock.system.monotonic()
        let nvml = try NVML(search: search) // a missing library or failed init ends the probe
        let (u1, s1) = threadCPU()
        rows.append(Row(name: "start-up: load libnvidia-ml + nvmlInit_v2", valuesPerCall: 0, callsPerRep: 1, reps: 1, userMs: 1000 * (u1 - u0),
                        sysMs: 1000 * (s1 - s0), wallMs: 1000 * (SampleClock.system.monotonic() - t0), latencyUs: nil, status: "ok"))
        var devices: [NVMLDevice] = []
        rows.append(measure("start-up: device handles, PCI id, name, UUID (all GPUs)", values: 0, calls: 0, reps: 1) {
            devices = try nvml.devices()
            for d in devices { _ = try d.pciBusId(); _ = try d.name(); _ = try d.uuid() }
            return nil
        })
        guard let d = devices.first else { return rows }
        var up: [Int] = []
        rows.append(measure("link states, 18 links (one call each)", values: 1, calls: nvmlMaxLinks, reps: reps) {
            up = (0..<nvmlMaxLinks).filter { d.nvlinkActive($0) == true }
            return nil
        })
        rows.append(measure("nvmlDeviceGetCount_v2", values: 1, calls: 1, reps: reps) { _ = try nvml.deviceCount(); return nil })
        let tx = NVMLField.nvlinkThroughputDataTX, rx = NVMLField.nvlinkThroughputDataRX
        let rtx = NVMLField.nvlinkThroughputRawTX, rrx = NVMLField.nvlinkThroughputRawRX
        let all = NVMLField.allLinks
        let first = UInt32(up.first ?? 0)
        let shapes: [(String, [(field: UInt32, scope: UInt32)])] = [
            ("fields: sum TX", [(tx, all)]),
            ("fields: sum TX+RX (top default)", [(tx, all), (rx, all)]),
            ("fields: sum TX+RX+rawTX+rawRX (--raw)", [(tx, all), (rx, all), (rtx, all), (rrx, all)]),
            ("fields: link \(first) TX", [(tx, first)]),
            ("fields: link \(first) TX+RX", [(tx, first), (rx, first)]),
            ("fields: \(up.count) links TX", up.map { (tx, UInt32($0)) }),
            ("fields: \(up.count) links TX+RX (top --links)", up.flatMap { [(tx, UInt32($0)), (rx, UInt32($0))] }),
            ("fields: sums + \(up.count) links TX+RX", [(tx, all), (rx, all)] + up.flatMap { [(tx, UInt32($0)), (rx, UInt32($0))] }),
        ]
        var scratch: [NVMLFieldValue] = []
        for (name, requests) in shapes where !requests.isEmpty {
            let batch = NVMLFieldBatch(device: d, requests: requests)
            rows.append(measure(name, values: requests.count, calls: 1, reps: reps) {
                try batch.read(into: &scratch)
                let bad = scratch.filter { $0.value == nil }
                if let e = bad.first { throw MonitorError("field \(e.field) scope \(e.scope): NVML error \(e.error)") }
                return scratch.map { Double($0.latencyUs) }.reduce(0, +) / Double(max(1, scratch.count))
            })
        }
        let perLinkBatches = up.map { l in NVMLFieldBatch(device: d, requests: [(tx, UInt32(l)), (rx, UInt32(l))]) }
        if !perLinkBatches.isEmpty {
            rows.append(measure("fields: \(up.count) links TX+RX, one call per link", values: 2, calls: up.count, reps: reps) {
                for b in perLinkBatches { try b.read(into: &scratch) }
                return nil
            })
        }
        for (name, ids) in [("gpm: sample + totals TX/RX", NVLinkSource.gpmMetrics(upLinks: up, perLink: false)),
                            ("gpm: sample + \(up.count) links TX/RX", NVLinkSource.gpmMetrics(upLinks: up, perLink: true))] {
            do {
                let g = try NVMLGPMReader(device: d, metricIds: ids)
                _ = try g.next()
                rows.append(measure(name, values: ids.count, calls: 2, reps: reps) {
                    let m = try g.next() ?? []
                    if let bad = m.first(where: { $0.value == nil }) { throw MonitorError("nvmlGpmMetricsGet: metric \(bad.metric) not readable") }
                    return nil
                })
            } catch {
                rows.append(Row(name: name, valuesPerCall: ids.count, callsPerRep: 0, reps: 0, userMs: 0, sysMs: 0, wallMs: 0, latencyUs: nil, status: "\(error)"))
            }
        }
        // Whole samples as `top` takes them, all GPUs (the first read, which builds the readers, is not counted).
        for method in NVLinkMethod.allCases {
            for perLink in [false, true] {
                let source = NVLinkSource(nvml: nvml, perLink: perLink, method: method)
                _ = try? source.read()
                let label = "top sample, \(devices.count) GPUs: --nvlink-counters \(method.rawValue)\(perLink ? " --links" : "")"
                rows.append(measure(label, values: 0, calls: devices.count, reps: reps) {
                    let r = try source.read()
                    if r.contains(where: { $0.ports.isEmpty }) { throw MonitorError("a GPU had no counters: \(r.first { $0.ports.isEmpty }?.info["nvlink_counters"] ?? "?")") }
                    return nil
                })
            }
        }
        return rows
    }

    /// The rows as a fixed-width table.
    public static func table(_ rows: [Row]) -> String {
        func pad(_ t: String, _ n: Int, left: Bool = false) -> String {
            t.count >= n ? t : (left ? t + String(repeating: " ", count: n - t.count) : String(repeating: " ", count: n - t.count) + t)
        }
        func f(_ v: Double) -> String { String(format: "%.3f", v) }
        var out = "# NVML cost per repetition (CPU = user + system of this thread); lat_us = NVML's latencyUsec, mean\n"
        out += pad("shape", 60, left: true) + pad("values", 7) + pad("calls", 6) + pad("reps", 5) + pad("cpu_ms", 10) + pad("sys_ms", 10)
            + pad("wall_ms", 10) + pad("lat_us", 9) + "  status\n"
        for r in rows {
            out += pad(r.name, 60, left: true) + pad(String(r.valuesPerCall), 7) + pad(String(r.callsPerRep), 6) + pad(String(r.reps), 5)
                + pad(f(r.cpuMsPerRep), 10) + pad(f(r.sysMs / Double(max(1, r.reps))), 10) + pad(f(r.wallMsPerRep), 10)
                + pad(r.latencyUs.map { String(format: "%.1f", $0) } ?? "-", 9) + "  " + r.status + "\n"
        }
        return out
    }
}
