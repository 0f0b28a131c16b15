import Driver
import ArgumentParser
import Foundation
import Report
import Results
import Simulate

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML and Markdown report with charts from results.",
        discussion: """
        Inputs are gpucomm results (JSON Lines) or other tools' output (nccl-tests text or -J JSON, \
        NVSHMEM perftest, multi-gpu-programming-models Jacobi, the aws-efa-p5 study CSVs); the format \
        is detected from the content. Writes DIR/report.html (self-contained: inline SVG, no network), \
        DIR/report.md and one SVG per chart. `--example` builds the report from the reference study's \
        data shipped inside gpucomm (CC BY 4.0). See docs/report.md.
        """)

    @Argument(help: "Result files to read.")
    var inputs: [String] = []

    @Option(name: .long, help: "Folder for report.html, report.md and the SVG files.")
    var out: String = "gpucomm-report"

    @Flag(name: .long, help: "Build the report from the reference study's data shipped inside gpucomm.")
    var example = false

    @Option(name: .customLong("link-gbps"), parsing: .unconditional, help: "Link peak per GPU in GB/s (unidirectional) for the fraction-of-peak figures; overrides the runs' topology.")
    var linkGBps: Double?

    @Option(name: .long, help: "Report title.")
    var title: String?

    @Flag(inversion: .prefixedNo, help: "Add the 'What if: beyond one host' section: NIC-selection simulator and scaling model (default: on with --example, off otherwise).")
    var whatIf: Bool?

    @Option(name: .customLong("what-if-nodes"), parsing: .unconditional, help: "Node counts the what-if section simulates, comma-separated.")
    var whatIfNodes = "2,4"

    @Option(name: .customLong("what-if-gpus-per-node"), parsing: .unconditional, help: "GPUs per node in the what-if section.")
    var whatIfGPUsPerNode = 8

    @Option(name: .customLong("what-if-nics-per-gpu"), parsing: .unconditional, help: "NICs per GPU in the what-if section.")
    var whatIfNICsPerGPU = 4

    @Option(name: .customLong("what-if-nic-gbps"), parsing: .unconditional, help: "Line rate of one NIC per direction in GB/s in the what-if section (100 Gb/s EFA = 12.5).")
    var whatIfNICGBps = 12.5

    /// The what-if shape, checked; nil when the section is off.
    func whatIfOptions() throws -> WhatIfOptions? {
        guard whatIf ?? example else { return nil }
        var nodes: [Int] = []
        for part in whatIfNodes.split(separator: ",", omittingEmptySubsequences: false) {
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)), n >= 2 else {
                throw ValidationError("--what-if-nodes '\(whatIfNodes)': each node count must be ≥ 2, comma-separated (e.g. 2,4)")
            }
            nodes.append(n)
        }
        try OptionNumber.atLeast(whatIfGPUsPerNode, 1, "--what-if-gpus-per-node")
        try OptionNumber.atLeast(whatIfNICsPerGPU, 1, "--what-if-nics-per-gpu")
        try OptionNumber.finite(whatIfNICGBps, atLeast: 0, strictly: true, "--what-if-nic-gbps")
        let w = WhatIfOptions(nodes: nodes, gpusPerNode: whatIfGPUsPerNode, nicsPerGPU: whatIfNICsPerGPU, nicGBps: whatIfNICGBps)
        do { try w.validate() } catch { throw ValidationError("what-if shape: \(error)") }
        return w
    }

    func validate() throws {
        if inputs.isEmpty && !example {
            throw ValidationError("give at least one result file, or --example")
        }
        if let l = linkGBps { try OptionNumber.finite(l, atLeast: 0, strictly: true, "--link-gbps") }
        _ = try whatIfOptions()
        try OutputPath.checkFolder(out, option: "--out")
    }

    func run() throws {
        var options = ReportOptions(linkGBps: linkGBps, whatIf: try whatIfOptions())
        // Run from a gpucomm checkout: the docs the report names become links relative to the report.
        options.docsBase = ReportFiles.docsBase(from: out)
        var doc: ReportDocument
        if example {
            options.title = title ?? "NCCL and NVSHMEM over AWS EFA (p5.48xlarge): the reference study, reproduced"
            do { doc = try ExampleReport.build(options: options) } catch { throw Failure(.failure, "example data: \(error)") }
            if !inputs.isEmpty {
                FileHandle.standardError.write(Data("gpucomm report: --example ignores the \(inputs.count) input file(s) given\n".utf8))
            }
        } else {
            options.title = title ?? "gpucomm report"
            let (set, summaries) = try InputLoader.load(inputs, command: "report")
            doc = ReportBuilder.build(set, inputs: summaries, options: options)
        }
        let files = try ReportFiles.write(doc, to: out)
        FileHandle.standardError.write(Data("gpucomm report: \(doc.charts.count) charts, \(files.count) files in \(out)\n".utf8))
        print((out as NSString).appendingPathComponent("report.html"))
    }
}

/// The report a measuring command writes at its end from its results file.
enum ResultsReport {
    /// Builds the report of `results` into `dir` and prints the path of report.html on stdout;
    /// any failure is one warning line on stderr (the measurements are already saved).
    static func writeAfterRun(results: String, to dir: String, command: String) {
        do {
            let (set, summaries) = try InputLoader.load([results], command: command)
            let doc = ReportBuilder.build(set, inputs: summaries, options: ReportOptions(title: "gpucomm \(command): \(results)"))
            _ = try ReportFiles.write(doc, to: dir)
            print("report: \((dir as NSString).appendingPathComponent("report.html"))")
        } catch {
            FileHandle.standardError.write(Data("gpucomm \(command): warning: no report written to \(dir): \(error)\n".utf8))
        }
    }
}

/// Reads inputs through the importers, telling on stderr what each gave; bad input is a usage error.
enum InputLoader {
    static func load(_ paths: [String], command: String) throws -> (ResultSet, [InputSummary]) {
        var set = ResultSet()
        var summaries: [InputSummary] = []
        for p in paths {
            let imported: ImportedInput
            do {
                imported = try ResultInputs.load(path: p)
            } catch let e as ResultsError {
                throw Failure(.usage, e.description)
            }
            if set.rows.isEmpty && set.runs.isEmpty { set = imported.set } else { set.append(imported.set) }
            let s = InputSummary(path: p, format: imported.format.rawValue, rowsRead: imported.rowsRead,
                                 skipped: imported.skipped.map(\.description))
            summaries.append(s)
            let skip = imported.skipped.isEmpty ? "" : ", skipped \(imported.rowsSkipped) (\(imported.skipped.prefix(3).map(\.description).joined(separator: "; "))\(imported.skipped.count > 3 ? "; ..." : ""))"
            FileHandle.standardError.write(Data("gpucomm \(command): \(p): \(imported.format.rawValue), \(imported.rowsRead) rows\(skip)\n".utf8))
        }
        return (set, summaries)
    }
}

/// Writes a report document as files.
enum ReportFiles {
    /// `docs/` of the current directory as seen from `dir` (`../../docs/`), when ./docs/model.md exists
    /// and `dir` is inside the current directory; nil otherwise.
    static func docsBase(from dir: String) -> String? {
        let fm = FileManager.default
        guard fm.fileExists(atPath: "docs/model.md") else { return nil }
        let cwd = URL(fileURLWithPath: fm.currentDirectoryPath).standardizedFileURL.path
        let target = URL(fileURLWithPath: dir).standardizedFileURL.path
        guard target.hasPrefix(cwd + "/") else { return nil }
        let depth = target.dropFirst(cwd.count + 1).split(separator: "/").count
        return String(repeating: "../", count: depth) + "docs/"
    }

    /// Writes report.html, report.md and `<chart id>.svg` into `dir` (created if needed); returns the paths.
    static func write(_ doc: ReportDocument, to dir: String) throws -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var written: [String] = []
            func put(_ name: String, _ text: String) throws {
                let path = (dir as NSString).appendingPathComponent(name)
                try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)  // whole or not at all
                written.append(path)
            }
            try put("report.html", ReportWriter.html(doc))
            try put("report.md", ReportWriter.markdown(doc))
            for c in doc.charts { try put("\(c.id).svg", SVGWriter.render(c)) }
            return written
        } catch let f as Failure {
            throw f
        } catch {
            throw Failure(.failure, "cannot write the report to \(dir): \(OutputPath.describe(error))")
        }
    }
}
