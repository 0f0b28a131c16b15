import Results

/// Rows from runs where several ranks shared one GPU (GPUCOMM_SHARE_GPUS=1 under CUDA MPS), and
/// rows of virtual ranks (`gpucomm moe --virtual-ranks`: several ranks in one process on one GPU):
/// their data check counts, their timings do not (the ranks take turns on one GPU's SMs and
/// memory), so no chart or table shows them.
enum SharedGPURows {
    /// Whether `r` is a virtual-rank row: it has the `virtual_ranks` label.
    static func isVirtual(_ r: ResultRow) -> Bool { r.labels?["virtual_ranks"] != nil }

    /// Whether `r` was measured with ranks sharing GPUs: a virtual-rank row, or its run says
    /// `shared_gpus: true`, or, for files written before that field, the run's recorded environment
    /// has GPUCOMM_SHARE_GPUS=1 and the row has more ranks than the run's GPUs on all its nodes.
    static func isShared(_ r: ResultRow, run: RunInfo?) -> Bool {
        if isVirtual(r) { return true }
        guard let run else { return false }
        if run.sharedGPUs == true { return true }
        guard run.sharedGPUs == nil, run.environment?["GPUCOMM_SHARE_GPUS"] == "1", let gpus = run.gpus, !gpus.isEmpty else { return false }
        return r.ranks > gpus.count * max(1, run.topology?.nodes ?? 1)
    }

    /// The rows measured on GPUs of their own, and those that were not.
    static func split(_ set: ResultSet) -> (kept: ResultSet, left: [ResultRow]) {
        var runs: [String: RunInfo] = [:]
        for r in set.runs where runs[r.run] == nil { runs[r.run] = r }
        guard set.runs.contains(where: { $0.sharedGPUs == true || $0.environment?["GPUCOMM_SHARE_GPUS"] == "1" }) || set.rows.contains(where: isVirtual)
        else { return (set, []) }
        var kept = set
        var left: [ResultRow] = []
        kept.rows = set.rows.filter { r in
            guard isShared(r, run: runs[r.run]) else { return true }
            left.append(r)
            return false
        }
        return (kept, left)
    }

    /// One line: how many rows were left out and why. `scope` follows "rows" (` for this section`).
    static func note(_ left: [ResultRow], of total: Int, scope: String = "") -> String {
        let shared = Set(left.filter { !isVirtual($0) }.map(\.run)).count, virtual = Set(left.filter(isVirtual).map(\.run)).count
        var sources: [String] = []
        if shared > 0 {
            sources.append(shared == 1 ? "1 run where several ranks shared one GPU (GPUCOMM_SHARE_GPUS=1; `shared_gpus` in its run record)"
                                       : "\(shared) runs where several ranks shared one GPU (GPUCOMM_SHARE_GPUS=1; `shared_gpus` in their run records)")
        }
        if virtual > 0 {
            sources.append(virtual == 1 ? "1 run of virtual ranks on one GPU (`moe --virtual-ranks`; `virtual_ranks` in its rows)"
                                        : "\(virtual) runs of virtual ranks on one GPU (`moe --virtual-ranks`; `virtual_ranks` in their rows)")
        }
        let runs = shared + virtual
        let from = sources.joined(separator: " and ") + (runs == 1 ? ", which checks" : ", which check")
        return "\(left.count) of the \(total) rows\(scope) \(left.count == 1 ? "is" : "are") left out of every chart and table: "
            + "\(left.count == 1 ? "it comes" : "they come") from \(from) correctness only; \(runs == 1 ? "its" : "their") timings are not results."
    }
}

/// Which part of the report a row belongs to (the sections' own filters, in one place for the notes).
enum RowKind: CaseIterable {
    case moe, chunked, sized, application

    static func of(_ r: ResultRow) -> RowKind {
        if MoERows.isMoE(r) { return .moe }
        if r.chunkBytes != nil { return .chunked }
        if r.sizeBytes != nil { return .sized }
        return .application
    }
}
