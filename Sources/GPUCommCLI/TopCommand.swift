import Driver
import ArgumentParser
import Foundation
import GPU
import Monitor

struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Watch NVLink and RDMA NIC traffic live.",
        discussion: """
        Sources: NVLink per GPU and per link (NVML), RDMA devices (sysfs counters under \
        --sys-root, or RDMA netlink). Rates come from successive samples; imbalance is max/mean \
        of tx and of rx across NICs and across one GPU's links. Keys in the live view: q quit, \
        s sort, up/down select, enter detail. With no GPU and no RDMA device: exit 5. See docs/top.md.
        """
    )

    @Option(parsing: .unconditional, help: "Time between samples: 1s, 100ms, 0.5 (seconds).")
    var interval: String = "1s"

    @Flag(help: "Take two samples one interval apart, print once, exit.")
    var once = false

    @Flag(help: "One JSON object per sample on stdout (streaming).")
    var json = false

    @Flag(help: "Print Prometheus text exposition once (two samples one interval apart) and exit.")
    var prometheus = false

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://ADDR:PORT/metrics, bound to ADDR only.", valueName: "addr:port"))
    var listen: String?

    @Option(help: ArgumentHelp("Write the counters as a Chrome/Perfetto JSON trace.", valueName: "file"))
    var record: String?

    @Option(parsing: .unconditional, help: "Stop after this long (e.g. 30s, 5m).")
    var duration: String?

    @Option(parsing: .unconditional, help: "Stop after this many samples with rates.")
    var count: Int?

    @Option(help: "Row order: name, tx, rx, total.")
    var sort: String = "name"

    @Option(help: ArgumentHelp("Show this device's ports and counters (gpu0, mlx5_0, efa_0).", valueName: "device"))
    var detail: String?

    @Option(parsing: .unconditional, help: "Flag a group whose max/mean rate passes this.")
    var imbalanceThreshold: Double = 1.5

    @Option(help: ArgumentHelp("Directory standing in for /sys (a host's /sys mounted in a pod, or a copied tree).", valueName: "dir"))
    var sysRoot: String = "/sys"

    @Option(help: "RDMA counters from: auto (sysfs, else netlink), sysfs, netlink, off.")
    var rdma: String = "auto"

    @Flag(help: "Do not read NVLink counters (no NVML).")
    var noNvlink = false

    @Flag(help: "Also read NVLink raw counters (with protocol overhead): twice the NVML calls per sample.")
    var raw = false

    @Flag(help: "Read every NVLink's counters and the per-GPU link imbalance (with field values this costs far more NVML time than the default per-GPU sums: docs/top.md, \"Overhead\").")
    var links = false

    @Option(help: ArgumentHelp("NVLink counters from: auto (gpm where every GPU has it and --raw is off, else fields), fields (NVML field values: payload data counters, cumulative KiB; every NVIDIA GPU with NVLink; ~3 ms of CPU per GPU per sample on Hopper) or gpm (NVML GPU Performance Monitoring rates, which count link traffic with protocol overhead, ~10-15% above the data counters; Hopper and later; ~0.2 ms per GPU). See docs/top.md, \"Overhead\".", valueName: "method"))
    var nvlinkCounters: String = "auto"

    @Flag(help: "At exit, print top's own CPU time on stderr as one JSON line: start-up, steady state, % of one core, ms per sample.")
    var selfCost = false

    @Flag(help: "No colour in text views.")
    var noColor = false

    func validate() throws {
        guard let i = TopOptions.seconds(interval), i >= 0.01 else {
            throw ValidationError("--interval \(interval): expected a duration of at least 10ms, e.g. 1s, 100ms, 0.5")
        }
        if let d = duration, TopOptions.seconds(d) == nil || TopOptions.seconds(d)! <= 0 {
            throw ValidationError("--duration \(d): expected a positive duration, e.g. 30s, 5m")
        }
        if let c = count { try OptionNumber.atLeast(c, 1, "--count") }
        if SortKey(rawValue: sort) == nil { throw ValidationError("--sort \(sort): allowed values are name, tx, rx, total") }
        if !["auto", "sysfs", "netlink", "off"].contains(rdma) {
            throw ValidationError("--rdma \(rdma): allowed values are auto, sysfs, netlink, off")
        }
        try OptionNumber.finite(imbalanceThreshold, atLeast: 1, "--imbalance-threshold")  // max/mean is never below 1
        if let record { try OutputPath.checkFile(record, option: "--record") }
        if [json, prometheus].filter({ $0 }).count > 1 { throw ValidationError("--json and --prometheus: choose one") }
        guard nvlinkCounters == "auto" || NVLinkMethod(rawValue: nvlinkCounters) != nil else {
            throw ValidationError("--nvlink-counters \(nvlinkCounters): allowed values are auto, fields, gpm")
        }
        let method = NVLinkMethod(rawValue: nvlinkCounters)
        if raw && method == .gpm { throw ValidationError("--raw needs --nvlink-counters fields (GPM has no raw NVLink counters)") }
        if noNvlink && method == .gpm { throw ValidationError("--nvlink-counters gpm and --no-nvlink: choose one") }
        if prometheus && (listen != nil) { throw ValidationError("--prometheus prints once; --listen serves continuously: choose one") }
    }

    func run() throws {
        let started = CPUSnapshot.now()
        var config = MonitorConfig()
        config.selfCostStart = selfCost ? started : nil
        config.interval = TopOptions.seconds(interval)!
        config.duration = duration.flatMap(TopOptions.seconds)
        config.count = once ? 1 : count
        config.sort = SortKey(rawValue: sort)!
        config.detail = detail
        config.imbalance = ImbalancePolicy(threshold: imbalanceThreshold)
        config.listen = listen
        config.record = record
        let tty = isatty(1) == 1
        config.color = tty && !noColor && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        if json { config.view = .json } else if prometheus { config.view = .prometheus; config.count = 1 } else if once { config.view = .text } else if tty && isatty(0) == 1 { config.view = .interactive } else if listen != nil || record != nil { config.view = .none } else { config.view = .text }

        let sources = try TopOptions.sources(nvlink: !noNvlink, raw: raw, perLink: links, method: raw ? .fields : NVLinkMethod(rawValue: nvlinkCounters),
                                             rdma: rdma, sysRoot: sysRoot)
        do {
            try LiveMonitor(sampler: Sampler(sources: sources), config: config).run()
        } catch let e as MonitorError {
            throw Failure(.usage, e.description)
        }
    }
}

/// Parsing and source selection for `top`, apart from the command so tests can call them.
enum TopOptions {
    /// `1s`, `100ms`, `2m`, `1h`, `0.5` (seconds) → seconds; nil when not a duration.
    static func seconds(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("us", 1e-6), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            guard let v = Double(t.dropLast(suffix.count)), v.isFinite, v >= 0, v * factor <= 1e9 else { return nil }
            return v * factor
        }
        guard let v = Double(t), v.isFinite, v >= 0, v <= 1e9 else { return nil }  // at most ~31 years: no overflow later
        return v
    }

    /// The sources to read; throws `.unavailable` when there is neither a GPU nor an RDMA device.
    /// `method` nil: GPM when every GPU has it, else field values.
    static func sources(nvlink: Bool, raw: Bool = false, perLink: Bool = false, method: NVLinkMethod? = .fields,
                        rdma: String, sysRoot: String) throws -> [any CounterSource] {
        var sources: [any CounterSource] = []
        var missing: [String] = []
        if nvlink {
            do {
                let nvml = try NVML()
                let devices = try nvml.devices()
                if devices.isEmpty {
                    missing.append("NVML sees no GPU")
                } else if method == .gpm, let d = devices.first(where: { !$0.gpmSupported() }) {
                    throw Failure(.unavailable, "top: --nvlink-counters gpm: NVML GPM is not available on NVML device \(d.index) (needs Hopper or later and a driver with GPM); use --nvlink-counters fields")
                } else {
                    let m = method ?? (devices.allSatisfy { $0.gpmSupported() } ? .gpm : .fields)
                    sources.append(NVLinkSource(nvml: nvml, includeRaw: raw, perLink: perLink, method: m))
                }
            } catch let e as LibraryNotFound {
                missing.append("no NVIDIA GPU (\(e.library) not found)")
            } catch {
                missing.append("no NVIDIA GPU (\(error))")
            }
        }
        if rdma != "off" {
            let sysfs = SysfsRDMASource(sysRoot: sysRoot)
            let owners = RDMAProcesses.cached(maxAge: 2)
            let useSysfs = rdma == "sysfs" || (rdma == "auto" && !sysfs.deviceNames().isEmpty)
            if useSysfs && !sysfs.deviceNames().isEmpty {
                sources.append(ProcessAnnotatingSource(base: sysfs, owners: owners))
            } else if rdma == "netlink" || (rdma == "auto" && sysRoot == "/sys") {
                let netlink = NetlinkRDMASource()
                if let found = try? netlink.read(), !found.isEmpty {
                    sources.append(ProcessAnnotatingSource(base: netlink, owners: owners))
                } else {
                    missing.append("no RDMA device in \(sysfs.classDirectory) or over RDMA netlink")
                }
            } else {
                missing.append("no RDMA device in \(sysfs.classDirectory)")
            }
        }
        guard !sources.isEmpty else {
            throw Failure(.unavailable, "top: nothing to watch: " + (missing.isEmpty ? "every source is turned off" : missing.joined(separator: "; ")))
        }
        return sources
    }
}
