import Foundation
import Results

/// Turns a result set into a report document: every section for which the data has rows,
/// then the provenance of every input and run.
public enum ReportBuilder {
    /// Builds the document. `inputs` describe the files read (shown in the provenance section);
    /// `intro` paragraphs go under the title.
    public static func build(_ set: ResultSet, inputs: [InputSummary], options: ReportOptions, intro: [String] = []) -> ReportDocument {
        // Rows from runs where ranks shared a GPU check correctness only: no chart or table shows them.
        let (measured, shared) = SharedGPURows.split(set)
        // Rows marked unsupported or that failed the data check are never drawn as valid.
        // Rows measured with other settings (iterations, warm-up, versions) are separate series, not repeats.
        let separated = RunSettings.separate(measured)
        let (valid, leftOut) = RowValidity.split(separated)
        // MoE rows carry every byte convention: their own section, not the generic ones.
        var others = valid
        others.rows = valid.rows.filter { !MoERows.isMoE($0) }
        let moeRows = valid.rows.filter(MoERows.isMoE)
        let moeFailed = separated.rows.filter { MoERows.isMoE($0) && ($0.wrong ?? 0) > 0 }
        let cells = Aggregate(others).cells
        var kit = FigureKit(options: options)
        kit.leftOut = leftOut
        let built: [(RowKind, Section?)] = [
            (.sized, kit.sizeSection(cells)), (.sized, kit.scalingSection(cells)), (.sized, kit.backendSection(cells)),
            (.sized, kit.matrixSection(cells)), (.chunked, kit.chunkSection(cells)), (.application, kit.applicationSection(cells)),
            (.moe, kit.moeSection(moeRows, failed: moeFailed)),
            (.sized, options.whatIf.map { kit.whatIfSection(others, whatIf: $0) }),
        ]
        var sections: [Section] = []
        for (kind, section) in built {
            guard var s = section else { continue }
            let left = shared.filter { RowKind.of($0) == kind }
            if !left.isEmpty {
                s.intro.append(SharedGPURows.note(left, of: set.rows.filter { RowKind.of($0) == kind }.count, scope: " for this section"))
            }
            sections.append(s)
        }
        sections.append(provenance(set, inputs: inputs, options: options))
        var intro = intro
        intro.append(summary(set, cells: cells.count + (moeRows.isEmpty ? 0 : Aggregate(ResultSet(rows: moeRows)).cells.count), options: options))
        if !shared.isEmpty { intro.append(SharedGPURows.note(shared, of: set.rows.count)) }
        // Failed MoE rows are listed (flagged) in the MoE tables; every other invalid row is in no table.
        let invalid = measured.rows.count - valid.rows.count - moeFailed.count
        if invalid > 0 {
            intro.append("\(invalid) of the \(set.rows.count) rows are left out of every chart and table: they are marked unsupported by the tool "
                + "that measured them or failed its data check (wrong elements); the note under each chart says which.")
        }
        if !moeFailed.isEmpty {
            let n = moeFailed.count
            intro.append("\(n) MoE row\(n == 1 ? "" : "s") of the \(set.rows.count) failed the data check (wrong elements): "
                + "\(n == 1 ? "it is" : "they are") drawn in no chart and listed in the MoE tables marked FAILED.")
        }
        var links: [String: String] = [:]
        if let base = options.docsBase {
            for d in ["simulate.md", "model.md", "report.md"] { links["docs/" + d] = base + d }
        }
        return ReportDocument(title: options.title, intro: intro, sections: sections, links: links)
    }

    static func summary(_ set: ResultSet, cells: Int, options: ReportOptions) -> String {
        var s = "\(set.rows.count) result rows from \(set.runs.count) run\(set.runs.count == 1 ? "" : "s"); \(cells) distinct measurements (repeats are shown as their median)."
        s += " Bandwidths are in GB/s (10^9 bytes per second); sizes in binary units (1K = 1024 bytes)."
        if let l = options.linkGBps {
            s += " Fractions of link peak use \(Fmt.value(l)) GB/s per GPU, given with --link-gbps."
        } else if set.runs.contains(where: { $0.topology?.nvlinkPeakGBps != nil || $0.topology?.nicGBpsPerGPU != nil }) {
            s += " Fractions of link peak use the peak recorded in each run's topology."
        } else {
            s += " No link peak is known for these results: pass --link-gbps to show the fraction of peak."
        }
        return s
    }

    /// Inputs (file, format, rows, skips) and runs (tool, host, GPUs, libraries, notes).
    static func provenance(_ set: ResultSet, inputs: [InputSummary], options: ReportOptions) -> Section {
        var figures: [Figure] = []
        if !inputs.isEmpty {
            figures.append(Figure(chart: nil, table: Table(
                headers: ["input", "format", "rows read", "skipped"],
                rows: inputs.map { [$0.path, $0.format, "\($0.rowsRead)", $0.skipped.isEmpty ? "none" : $0.skipped.joined(separator: "; ")] })))
        }
        let runRows = set.runs.map { r -> [String] in
            let gpus = r.gpus.map { g in
                let names = Set(g.map(\.name)).sorted().joined(separator: ", ")
                return "\(g.count) × \(names)"
            } ?? ""
            var libs: [String] = []
            if let v = r.cuda { libs.append("CUDA \(v)") }
            if let v = r.driver { libs.append("driver \(v)") }
            if let v = r.nccl { libs.append("NCCL \(v)") }
            if let v = r.nvshmem { libs.append("NVSHMEM \(v)") }
            var peak = ""
            if let p = r.topology?.nvlinkPeakGBps { peak = "NVLink \(Fmt.value(p)) GB/s" }
            if let p = r.topology?.nicGBpsPerGPU { peak += (peak.isEmpty ? "" : ", ") + "NIC \(Fmt.value(p)) GB/s" }
            let tool = [r.tool, r.toolVersion].compactMap { $0 }.joined(separator: " ")
            let from = [r.source, r.importer.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
            // The command as typed, with the program's folder dropped (`/tmp/gpucomm nccl …` → `gpucomm nccl …`).
            let command = r.command.map { c in
                ([c.first.map { ($0 as NSString).lastPathComponent } ?? ""] + c.dropFirst()).joined(separator: " ")
            } ?? ""
            let revision = r.gitRevision.map { String($0.prefix(12)) } ?? ""
            return [r.run, tool, revision, from, command, r.host ?? "", r.time ?? "", gpus, libs.joined(separator: ", "), peak,
                    ((r.sharedGPUs == true ? ["Ranks shared GPUs (correctness only; its rows are not charted)."] : []) + (r.notes ?? [])).joined(separator: " ")]
        }
        if !runRows.isEmpty {
            // Columns no run fills are left out.
            let headers = ["run", "tool", "revision", "source", "command", "host", "time", "GPUs", "libraries", "link peak", "notes"]
            let keep = headers.indices.filter { i in runRows.contains { !$0[i].isEmpty } }
            figures.append(Figure(chart: nil, table: Table(
                headers: keep.map { headers[$0] }, rows: runRows.map { r in keep.map { r[$0] } })))
        }
        return Section(title: "Provenance", intro: ["Where every number above came from."], figures: figures)
    }
}
