import GPU

/// The NCCL variants: nccl (stencil then exchange), nccl_overlap (boundary rows and their
/// exchange on a second stream while the interior is computed), nccl_graphs (overlap replayed
/// from CUDA graphs), nccl_ub / nccl_symm (graphs on registered / symmetric-window buffers).
final class NCCLScheme: HaloScheme {
    enum Schedule { case plain, overlap, graphs }
    enum Memory { case device, registered, window }

    let c: RankContext
    let comm: Communicator
    let schedule: Schedule
    let memory: Memory
    let buffers: [DeviceBuffer]
    private var registrations: [UnsafeMutableRawPointer?] = []
    private let args = ArgumentCache()
    private let started: Event
    private let pushed: Event
    private var graphs: [Int: GraphExec] = [:]

    init(_ c: RankContext, comm: Communicator, schedule: Schedule, memory: Memory) throws {
        self.c = c; self.comm = comm; self.schedule = schedule; self.memory = memory
        switch memory {
        case .device:
            buffers = try (0..<2).map { _ in try DeviceBuffer(device: c.device, bytes: c.bufferBytes) }
        case .registered, .window:
            // Windows need a 4096-byte multiple and ncclMemAlloc memory of the same size on every rank.
            let bytes = (c.bufferBytes + 4095) / 4096 * 4096
            buffers = try (0..<2).map { _ in try comm.nccl.allocate(bytes: bytes, on: c.device) }
        }
        started = try Event(device: c.device)
        pushed = try Event(device: c.device)
        for b in buffers {
            switch memory {
            case .device: break
            case .registered: registrations.append(try comm.register(b))
            case .window: registrations.append(try comm.registerWindow(b))
            }
        }
    }

    deinit {
        for r in registrations {
            if memory == .window { comm.deregisterWindow(r) } else { comm.deregister(r) }
        }
    }

    func makeNorm() throws -> (local: DeviceBuffer, global: DeviceBuffer) {
        (try DeviceBuffer(device: c.device, bytes: 4), try DeviceBuffer(device: c.device, bytes: 4))
    }

    func reduceNorm(local: DeviceBuffer, global: DeviceBuffer) throws {
        try comm.allReduce(local.pointer(), global.pointer(), count: 1, type: .float32, op: .sum, stream: c.compute, label: "norm")
    }

    func quiesce() throws { try comm.checkAsync() }

    func step(_ j: Int, norm: DeviceBuffer?) throws {
        switch schedule {
        case .plain: try plainStep(j, norm: norm)
        case .overlap: try overlapStep(j, norm: norm)
        case .graphs:
            let key = ArgumentCache.key(9, j % 2, norm)
            if graphs[key] == nil {
                try c.device.makeCurrent()
                graphs[key] = try GraphExec.capture(streams: [c.compute]) { try overlapStep(j, norm: norm) }.first
            }
            try graphs[key]!.launch(on: c.compute)
        }
    }

    /// Both halo rows of `aNew` in one group, as the samples do (row 0 from the top neighbour,
    /// the last row to the bottom one, the bottom halo from the bottom one, the first row to the top).
    private func exchange(_ aNew: DeviceBuffer, on stream: Stream) throws {
        let nx = c.nx, rowBytes = nx * 4, last = c.interior.upperBound - 1
        try comm.groupStart()
        try comm.recv(aNew.pointer(), count: nx, type: .float32, peer: c.top, stream: stream, label: "top halo")
        try comm.send(aNew.pointer(offset: last * rowBytes), count: nx, type: .float32, peer: c.bottom, stream: stream, label: "last row")
        try comm.recv(aNew.pointer(offset: (last + 1) * rowBytes), count: nx, type: .float32, peer: c.bottom, stream: stream, label: "bottom halo")
        try comm.send(aNew.pointer(offset: rowBytes), count: nx, type: .float32, peer: c.top, stream: stream, label: "first row")
        try comm.groupEnd("ncclGroupEnd (halo exchange)")
    }

    private func plainStep(_ j: Int, norm: DeviceBuffer?) throws {
        let a = buffers[j % 2], aNew = buffers[(j + 1) % 2], rows = c.interior, nx = c.nx
        let k = args.get(ArgumentCache.key(0, j % 2, norm)) { StencilKernels.head(aNew: aNew, a: a, norm: norm, rows: rows, nx: nx) }
        try c.kernels.launch(k, rows: rows, nx: nx, on: c.compute)
        try exchange(aNew, on: c.compute)
    }

    /// compute: [start] ─────────── interior ── wait(pushed)
    /// push:          wait(start) ─ first row, last row ─ exchange ─ [pushed]
    /// The push stream waits for everything before this iteration on compute (the previous
    /// interior read the rows the boundary kernels now overwrite); compute waits for the
    /// exchange before the next iteration reads the halos.
    private func overlapStep(_ j: Int, norm: DeviceBuffer?) throws {
        let a = buffers[j % 2], aNew = buffers[(j + 1) % 2], rows = c.interior, nx = c.nx
        let first = rows.lowerBound..<(rows.lowerBound + 1), last = (rows.upperBound - 1)..<rows.upperBound
        let inner = (rows.lowerBound + 1)..<max(rows.lowerBound + 1, rows.upperBound - 1)
        try started.record(on: c.compute)
        try c.push.wait(for: started)
        let kf = args.get(ArgumentCache.key(1, j % 2, norm)) { StencilKernels.head(aNew: aNew, a: a, norm: norm, rows: first, nx: nx) }
        let kl = args.get(ArgumentCache.key(2, j % 2, norm)) { StencilKernels.head(aNew: aNew, a: a, norm: norm, rows: last, nx: nx) }
        try c.kernels.launch(kf, rows: first, nx: nx, on: c.push)
        try c.kernels.launch(kl, rows: last, nx: nx, on: c.push)
        try exchange(aNew, on: c.push)
        try pushed.record(on: c.push)
        let ki = args.get(ArgumentCache.key(3, j % 2, norm)) { StencilKernels.head(aNew: aNew, a: a, norm: norm, rows: inner, nx: nx) }
        try c.kernels.launch(ki, rows: inner, nx: nx, on: c.compute)
        try c.compute.wait(for: pushed)
    }
}
