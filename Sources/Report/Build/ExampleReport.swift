import Results

/// The reference study's data, shipped inside gpucomm (CC BY 4.0, see Example/SOURCE.md),
/// and the report `gpucomm report --example` builds from it.
public enum ExampleReport {
    /// The embedded CSV files with the names the importer reads their kind from.
    static var files: [(name: String, bytes: [UInt8])] {
        [("aws-efa-p5/nccl_all_reduce.csv", PackageResources.nccl_all_reduce_csv),
         ("aws-efa-p5/nccl_alltoall.csv", PackageResources.nccl_alltoall_csv),
         ("aws-efa-p5/nvshmem_alltoall_device.csv", PackageResources.nvshmem_alltoall_device_csv),
         ("aws-efa-p5/nvshmem_alltoall_host.csv", PackageResources.nvshmem_alltoall_host_csv),
         ("aws-efa-p5/jacobi.csv", PackageResources.jacobi_csv)]
    }

    /// SOURCE.md: attribution, setup, and the study's figures in words.
    public static var source: String { String(decoding: PackageResources.SOURCE_md, as: UTF8.self) }

    /// Imports the embedded files through the regular importers.
    public static func load() throws -> (set: ResultSet, inputs: [InputSummary]) {
        var set = ResultSet()
        var inputs: [InputSummary] = []
        for (name, bytes) in files {
            let imported = try ResultInputs.load(text: String(decoding: bytes, as: UTF8.self), name: name)
            set.append(imported.set)
            inputs.append(InputSummary(path: name + " (embedded)", format: imported.format.rawValue,
                                       rowsRead: imported.rowsRead, skipped: imported.skipped.map(\.description)))
        }
        return (set, inputs)
    }

    /// Which of our charts stand for each of the study's figures (by chart id).
    static let figureCharts: [Int: [String]] = [
        1: ["scaling_collectives_nccl_busbw"],
        2: ["backends_alltoall_algbw", "backends_alltoall_nccl_vs_nvshmem_host_algbw"],
        3: ["backends_alltoall_nvshmem_device_vs_nvshmem_host_algbw"],
        4: ["size_alltoall_nvshmem_host_algbw", "size_alltoall_nvshmem_device_algbw"],
        5: ["app_jacobi_time", "app_jacobi_speedup", "app_jacobi_efficiency"],
    ]

    /// The study's figure descriptions, read from SOURCE.md's numbered list.
    static var studyFigures: [(Int, String)] {
        var out: [(Int, String)] = []
        var inList = false
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("The study's figures") { inList = true; continue }
            guard inList else { continue }
            if let dot = line.firstIndex(of: "."), let n = Int(line[..<dot]) {
                out.append((n, trim(line[line.index(after: dot)...])))
            } else if line.hasPrefix("   "), !out.isEmpty {
                out[out.count - 1].1 += " " + trim(line)
            }
        }
        return out
    }

    static func trim(_ s: Substring) -> String {
        var s = s
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }

    /// The example report: the study's data through the regular report, with the attribution
    /// and setup from SOURCE.md on top and a table mapping the study's five figures to ours.
    public static func build(options: ReportOptions) throws -> ReportDocument {
        let (set, inputs) = try load()
        let paragraphs = source.components(separatedBy: "\n\n")
        let about = paragraphs.dropFirst().prefix(2).map { $0.replacingOccurrences(of: "\n", with: " ") }
        var doc = ReportBuilder.build(set, inputs: inputs, options: options, intro: Array(about))
        let titles = Dictionary(uniqueKeysWithValues: doc.charts.map { ($0.id, $0.title) })
        // Figure 1 names collectives; say which ones the shipped data has.
        let collectives = Set(set.rows.filter { $0.backend == "nccl" && $0.sizeBytes != nil }.map(\.benchmark)).sorted()
        let rows = studyFigures.map { n, text -> [String] in
            let ours = (figureCharts[n] ?? []).compactMap { titles[$0] }
            var cell = ours.isEmpty ? "not reproduced: the data for it is missing" : ours.joined(separator: "; ")
            if n == 1 { cell += " (NCCL collectives in the shipped data: \(collectives.joined(separator: ", ")))" }
            return ["\(n)", text, cell]
        }
        let map = Section(title: "The study's figures", intro: [
            "Each of the study's five figures and the charts below that reproduce it from the shipped data. "
                + "The sentences under each chart are computed from the plotted numbers; nothing is copied from the study's text.",
        ], figures: [Figure(chart: nil, table: Table(headers: ["study figure", "what it shows", "charts here"], rows: rows))])
        doc.sections.insert(map, at: 0)
        return doc
    }
}
