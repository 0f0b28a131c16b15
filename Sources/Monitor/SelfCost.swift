import Foundation

/// CPU time this process used, and when: read at start, after the first sample, and at the end
/// of `top`, to report its own overhead (`--self-cost`).
public struct CPUSnapshot: Sendable, Equatable {
    /// Monotonic seconds.
    public var wall: Double
    /// User and system CPU seconds of the whole process since it started (`getrusage(RUSAGE_SELF)`).
    public var user: Double
    public var system: Double

    public init(wall: Double, user: Double, system: Double) {
        self.wall = wall
        self.user = user
        self.system = system
    }

    /// Now.
    public static func now() -> CPUSnapshot {
        var r = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &r)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return CPUSnapshot(wall: SampleClock.system.monotonic(), user: s(r.ru_utime), system: s(r.ru_stime))
    }
}

/// `top`'s own cost: start-up (process start to the end of the first sample: NVML init, device
/// enumeration, static facts, first reads) and steady state (every later sample and the waits between).
public struct SelfCost: Sendable, Equatable {
    public var samples: Int
    public var startupCPU: Double
    public var startupWall: Double
    public var steadyUser: Double
    public var steadySystem: Double
    public var steadyWall: Double
    public var totalCPU: Double
    public var totalWall: Double

    /// `start`: when `top` began (its CPU figures count from process start); `first`: after the first
    /// sample; `end`: on exit; `samples`: samples taken after the first.
    public init(start: CPUSnapshot, first: CPUSnapshot, end: CPUSnapshot, samples: Int) {
        self.samples = samples
        startupCPU = first.user + first.system
        startupWall = first.wall - start.wall
        steadyUser = end.user - first.user
        steadySystem = end.system - first.system
        steadyWall = end.wall - first.wall
        totalCPU = end.user + end.system
        totalWall = end.wall - start.wall
    }

    /// Percent of one core in steady state.
    public var steadyPercent: Double { steadyWall > 0 ? 100 * (steadyUser + steadySystem) / steadyWall : 0 }
    /// Percent of one core over the whole run, start-up included.
    public var totalPercent: Double { totalWall > 0 ? 100 * totalCPU / totalWall : 0 }
    /// CPU milliseconds per steady-state sample.
    public var msPerSample: Double { samples > 0 ? 1000 * (steadyUser + steadySystem) / Double(samples) : 0 }

    /// One JSON line (`{"self_cost":{…}}`), fixed precision.
    public var jsonLine: String {
        func f(_ v: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", v) }
        return "{\"self_cost\":{\"samples\":\(samples),\"startup_cpu_s\":\(f(startupCPU)),\"startup_wall_s\":\(f(startupWall)),"
            + "\"steady_user_s\":\(f(steadyUser)),\"steady_sys_s\":\(f(steadySystem)),\"steady_wall_s\":\(f(steadyWall)),"
            + "\"steady_pct_core\":\(f(steadyPercent, 3)),\"total_cpu_s\":\(f(totalCPU)),\"total_wall_s\":\(f(totalWall)),"
            + "\"total_pct_core\":\(f(totalPercent, 3)),\"cpu_ms_per_sample\":\(f(msPerSample, 3))}}"
    }
}
