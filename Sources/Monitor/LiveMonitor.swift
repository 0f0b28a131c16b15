import Foundation

/// What `gpucomm top` shows and when it stops.
public struct MonitorConfig: Sendable {
    /// Where samples go on stdout.
    public enum View: String, Sendable {
        /// Full-screen, refreshing, keys (needs a terminal).
        case interactive
        /// Plain text screens, one after another (stdout not a terminal, or `--once`).
        case text
        /// One JSON object per sample (`--json`).
        case json
        /// Prometheus exposition (`--prometheus`, one shot).
        case prometheus
        /// Nothing on stdout (`--listen` or `--record` alone).
        case none
    }

    public var view: View = .interactive
    /// Seconds between samples.
    public var interval: Double = 1
    /// Stop after this many samples with rates (`--once` is 1).
    public var count: Int? = nil
    /// Stop after this many seconds.
    public var duration: Double? = nil
    public var sort: SortKey = .name
    /// Device whose ports are shown under the table (`--detail`).
    public var detail: String? = nil
    public var imbalance = ImbalancePolicy()
    /// `ADDR:PORT` to serve `/metrics` on.
    public var listen: String? = nil
    /// Chrome/Perfetto trace file to write.
    public var record: String? = nil
    /// ANSI colour in text views.
    public var color = false
    /// Width of text screens when stdout is not a terminal.
    public var width = 120
    /// When set (`--self-cost`), `top` prints its own CPU cost as one JSON line on stderr at exit;
    /// this is the snapshot taken when the command started.
    public var selfCostStart: CPUSnapshot? = nil

    public init() {}
}

/// The monitor's loop: sample, compute rates, show, wait (for the interval, keys, signals, HTTP requests).
public struct LiveMonitor {
    public var sampler: Sampler
    public var config: MonitorConfig
    /// Where stdout text goes (tests capture it).
    public var output: (String) -> Void
    /// Where one-line diagnostics go (stderr).
    public var diagnostics: (String) -> Void

    public init(sampler: Sampler, config: MonitorConfig,
                output: @escaping (String) -> Void = { LiveMonitor.writeStdout($0) },
                diagnostics: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.sampler = sampler
        self.config = config
        self.output = output
        self.diagnostics = diagnostics
    }

    /// Writes all of `text` to stdout (fd 1), unbuffered.
    public static func writeStdout(_ text: String) { TerminalScreen.write(text) }

    /// Runs until the count or duration is reached, `q` is pressed, or SIGINT/SIGTERM/SIGHUP arrives.
    public func run() throws {
        let c = config
        CrashReport.install()
        let server = try c.listen.map { try MetricsServer(listen: $0) }
        if let server { diagnostics("gpucomm top: serving http://\(server.boundAddress)/metrics") }
        var trace = c.record.map { _ in TraceFormatter() }
        let traceFile: FileHandle?
        if let path = c.record {
            guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
                throw MonitorError("--record \(path): cannot create the file")
            }
            traceFile = h
        } else { traceFile = nil }
        let screen = c.view == .interactive ? try TerminalScreen() : nil
        let signals = [SIGINT, SIGTERM, SIGHUP] + (screen != nil ? [SIGWINCH] : [])
        SignalWatcher.install(signals)
        defer {
            screen?.restore()
            SignalWatcher.uninstall(signals)
            if let traceFile, let trace { traceFile.write(Data(trace.closing().utf8)); try? traceFile.close() }
        }

        var calc = RateCalculator(imbalancePolicy: c.imbalance)
        var ui = ScreenOptions()
        ui.sort = c.sort
        ui.threshold = c.imbalance.threshold
        ui.color = c.color
        ui.keyHelp = screen != nil
        var selectedName = c.detail
        ui.detail = c.detail != nil
        var reported = Set<String>()
        var emitted = 0
        var latest: Snapshot?
        let once = c.view == .prometheus || c.count == 1
        var next = sampler.clock.monotonic()
        var afterFirst: CPUSnapshot?
        var sampled = 0
        defer {
            if let start = c.selfCostStart, let afterFirst {
                diagnostics(SelfCost(start: start, first: afterFirst, end: .now(), samples: sampled - 1).jsonLine)
            }
        }

        func draw(_ snap: Snapshot) {
            var o = ui
            let rows = ScreenView.sorted(snap.devices, by: o.sort)
            o.selected = selectedName.flatMap { n in rows.firstIndex { $0.name == n } } ?? (screen != nil && !rows.isEmpty ? 0 : nil)
            if let screen {
                let size = screen.size()
                o.width = size.width
                o.height = size.height
                screen.draw(ScreenView.render(snap, options: o))
            } else {
                o.width = c.width
                output(ScreenView.render(snap, options: o).joined(separator: "\n") + "\n\n")
            }
        }

        loop: while true {
            let (sample, problems) = sampler.sample()
            sampled += 1
            if c.selfCostStart != nil && afterFirst == nil { afterFirst = .now() }
            for p in problems where reported.insert(p).inserted { diagnostics("gpucomm top: \(p)") }
            let snap = calc.update(sample)
            latest = snap
            if let t = trace?.events(snap), !t.isEmpty { traceFile?.write(Data(t.utf8)) }
            let hasRates = snap.interval != nil
            if hasRates { emitted += 1 }
            switch c.view {
            case .interactive: draw(snap)
            case .text where hasRates: draw(snap)
            case .json where hasRates: output(JSONView.line(snap) + "\n")
            case .prometheus where hasRates: output(PrometheusView.text(snap))
            default: break
            }
            if hasRates && once { break }
            if let n = c.count, emitted >= n { break }
            if let d = c.duration, snap.elapsed + 1e-9 >= d { break }

            next += c.interval
            let now = sampler.clock.monotonic()
            if next < now { next = now + c.interval }
            // Wait for the next sample, answering keys, signals and HTTP requests meanwhile.
            while true {
                let remaining = next - sampler.clock.monotonic()
                if remaining <= 0 { break }
                var fds = [pollfd(fd: signalPipe.read, events: Int16(POLLIN), revents: 0)]
                if screen != nil { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
                if let server { fds.append(pollfd(fd: server.fd, events: Int16(POLLIN), revents: 0)) }
                let ready = poll(&fds, nfds_t(fds.count), Int32((remaining * 1000).rounded(.up)))
                if ready <= 0 { continue }
                if fds[0].revents != 0 {
                    let got = SignalWatcher.drain()
                    if got.contains(where: { $0 != SIGWINCH }) { break loop }
                    if let latest, !got.isEmpty { draw(latest) }
                }
                if let screen, fds[1].revents != 0 {
                    var redraw = false
                    for key in parseKeys(screen.readInput()) {
                        guard let latest else { break }
                        let rows = ScreenView.sorted(latest.devices, by: ui.sort)
                        let at = selectedName.flatMap { n in rows.firstIndex { $0.name == n } } ?? 0
                        switch key {
                        case .quit: break loop
                        case .sort: ui.sort = ui.sort.next
                        case .up: selectedName = rows.isEmpty ? nil : rows[max(0, at - 1)].name
                        case .down: selectedName = rows.isEmpty ? nil : rows[min(rows.count - 1, at + 1)].name
                        case .toggleDetail:
                            ui.detail.toggle()
                            if selectedName == nil, !rows.isEmpty { selectedName = rows[0].name }
                        case .closeDetail: ui.detail = false
                        }
                        redraw = true
                    }
                    if redraw, let latest { draw(latest) }
                }
                if let server, fds[fds.count - 1].revents != 0 {
                    server.serveOne { latest.map(PrometheusView.text) ?? "" }
                }
            }
        }
    }
}
