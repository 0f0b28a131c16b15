import Driver
import GPU

// The send/receive split (`gpucomm moe --split`, docs/moe.md "Send/receive split"): the rows
// dispatch_send, dispatch_recv, combine_send and combine_recv of the NVSHMEM styles, each half
// launched alone (cuda/moe_nvshmem.cu's `phase`) and timed by the driver.

/// An NVSHMEM dispatch or combine whose halves can be enqueued apart (`DispatchWorkload`,
/// `CombineWorkload`).
protocol SplitOperation: Workload {
    /// Enqueues the send half of the next operation; returns its routing.
    func enqueueSend() throws -> Int
    /// Enqueues the receive half of an operation of routing `routing` sent before on every rank.
    func enqueueReceive(routing: Int) throws
}

extension DispatchWorkload: SplitOperation {}
extension CombineWorkload: SplitOperation {}

/// What a split workload enqueues at each call of the driver (pure; `SplitTests` walks it).
///
/// The check, the enqueue after `fill`, is the whole operation: the send half, then the receive
/// half, so the driver's check reads every row in place and the counters are consumed. After it:
/// - `send` half: every enqueue is one send half; their receive halves are pending (DeepEP's
///   send kernel is timed with its receive not yet run), and `finish` runs them all, in order.
/// - `receive` half: the first enqueue after the check (the first warm-up) sends `batch`
///   operations at once, the send halves of the warm-ups and the timed loop; every enqueue then
///   receives one of them, oldest first, so a timed receive finds its rows already sent (DeepEP
///   calls the hook after a long host GEMM); `finish` receives any left.
/// Every send is received exactly once, in the order sent: the signal counters end where they began.
struct SplitSchedule: Equatable {
    enum Step: Equatable { case send, receive }
    /// `.send` or `.receive`: which half the timed loop runs.
    let half: MoEPhase
    /// Operations the receive half sends at once.
    let batch: Int
    /// Sends not yet received.
    private(set) var pending = 0
    private var checking = false

    init(half: MoEPhase, batch: Int) {
        precondition(half != .both, "a split schedule times one half")
        self.half = half
        self.batch = max(1, batch)
    }

    /// The driver poisoned the buffers: the next enqueue is the checked one.
    mutating func fill() { checking = true }

    mutating func enqueue() -> [Step] {
        if checking {
            checking = false
            defer { pending = 0 }
            return Array(repeating: .receive, count: pending) + [.send, .receive]
        }
        if half == .send {
            pending += 1
            return [.send]
        }
        var steps: [Step] = []
        if pending == 0 {
            steps = Array(repeating: .send, count: batch)
            pending = batch
        }
        pending -= 1
        return steps + [.receive]
    }

    /// After the timed loop: the receive half of every send still pending.
    mutating func finish() -> [Step] {
        defer { pending = 0 }
        return Array(repeating: .receive, count: pending)
    }
}

/// One half of an NVSHMEM dispatch or combine as a workload of its own (`SplitSchedule` says what
/// each call enqueues): checked whole, timed by half.
final class SplitWorkload: Workload {
    let operation: any SplitOperation
    private(set) var schedule: SplitSchedule
    /// Routings of the sends not yet received, oldest first.
    private var sent: [Int] = []

    /// `half` `.send` or `.receive`; `plan` sizes the receive half's batch (warm-ups and timed operations).
    init(_ operation: any SplitOperation, half: MoEPhase, plan: TimingPlan) {
        self.operation = operation
        schedule = SplitSchedule(half: half, batch: plan.warmup + plan.iterations * plan.aggregate)
    }

    var streams: [GPU.Stream] { operation.streams }
    func enqueueIterationBarrier() throws -> Bool { try operation.enqueueIterationBarrier() }
    func prepare() throws { try operation.prepare() }
    func fill() throws {
        try operation.fill()
        schedule.fill()
    }
    func enqueue() throws { try run(schedule.enqueue()) }
    func countWrong() throws -> Int64 { try operation.countWrong() }
    func finish() throws {
        try run(schedule.finish())
        try operation.finish()
    }

    private func run(_ steps: [SplitSchedule.Step]) throws {
        for s in steps {
            switch s {
            case .send: sent.append(try operation.enqueueSend())
            case .receive: try operation.enqueueReceive(routing: sent.removeFirst())
            }
        }
    }
}

/// The rows of the split and their bytes.
public enum MoESplit {
    /// The operations `MoEBench.run` measures for `style`, in table order: with `split` and a style
    /// that has halves, each half of dispatch and combine after the whole operation.
    public static func ops(style: MoEStyle, split: Bool) -> [String] {
        let halves = split && style.hasHalves
        return ["layout", "dispatch"] + (halves ? ["dispatch_send", "dispatch_recv"] : [])
            + ["combine"] + (halves ? ["combine_send", "combine_recv"] : [])
    }

    /// Each convention's bytes of row `op`: dispatch and dispatch_send carry the dispatch's,
    /// combine and combine_send the combine's; layout and the receive halves none (time only: their
    /// rows move no data, it arrived during the send half).
    public static func bytes(op: String, _ b: [ByteConvention: (dispatch: Double, combine: Double)]) -> [ByteConvention: Double] {
        switch op {
        case "dispatch", "dispatch_send": return b.mapValues { $0.dispatch }
        case "combine", "combine_send": return b.mapValues { $0.combine }
        default: return [:]
        }
    }

    /// The half a split row times (nil for the other rows).
    static func half(_ op: String) -> MoEPhase? {
        op.hasSuffix("_send") ? .send : op.hasSuffix("_recv") ? .receive : nil
    }
}

extension MoEStyle {
    /// Whether `--split` measures this style's halves: the styles of cuda/moe_nvshmem.cu.
    public var hasHalves: Bool { kernelStyle != nil }
}
