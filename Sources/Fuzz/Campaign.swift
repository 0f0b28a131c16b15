import Foundation
import Report
import Results

/// One fuzzing run: seeds, mutants, the checks on each, and the counts.
///
/// Every mutant goes through format detection and one forced importer in-process, and, when it
/// imports, through the report (charts, Markdown, HTML) and `compare` against its seed. Every
/// `cliEvery`-th mutant also runs `gpucomm import -o`, `report --out` and `compare` in-process
/// through the real command line, which must end with a documented status (0, 2 or 4) and leave
/// either a whole output or none. A crash ends the process: the mutant is in `work/current.input`
/// (written before each run), which `.ci/fuzz.sh` keeps as a regression fixture.
final class Campaign {
    struct Seed { var name: String; var bytes: [UInt8] }

    let seeds: [Seed]
    let work: URL
    let cliEvery: Int
    let log: FileHandle
    var mutator: Mutator
    var counts: [String: Int] = [:]
    var failures: [String] = []

    init(seeds: [Seed], seed: UInt64, work: URL, cliEvery: Int, log: FileHandle) {
        self.seeds = seeds
        self.mutator = Mutator(seed: seed)
        self.work = work
        self.cliEvery = cliEvery
        self.log = log
    }

    /// Runs mutant number `index`; records anything wrong in `failures`.
    func step(_ index: Int) {
        let s = seeds[mutator.random.below(seeds.count)]
        let other = seeds[mutator.random.below(seeds.count)]
        let bytes = mutator.mutate(s.bytes, other: other.bytes)
        let forced = InputFormat.allCases[mutator.random.below(InputFormat.allCases.count)]
        // Before anything runs: what a crash leaves behind.
        try? Data(bytes).write(to: work.appendingPathComponent("current.input"))
        try? "\(index) \(s.name) \(forced.rawValue)\n".write(to: work.appendingPathComponent("current.meta"), atomically: false, encoding: .utf8)
        let text = String(decoding: bytes, as: UTF8.self)
        let quiet = ![text, s.name].contains { $0.lowercased().contains("inf") || $0.lowercased().contains("nan") }
        library(text, name: s.name, format: nil, seed: s, quiet: quiet, index: index)
        library(text, name: s.name, format: forced, seed: s, quiet: quiet, index: index)
        if index % cliEvery == 0 { commandLine(bytes, seed: s, index: index) }
    }

    private func fail(_ index: Int, _ seed: Seed, _ what: String, _ bytes: String? = nil) {
        let dir = work.appendingPathComponent("failures")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("\(index)-\(seed.name)")
        try? (bytes ?? (try? String(contentsOf: work.appendingPathComponent("current.input"), encoding: .utf8)) ?? "")
            .write(to: file, atomically: true, encoding: .utf8)
        failures.append("mutant \(index) of \(seed.name): \(what) (input kept in \(file.path))")
    }

    private func library(_ text: String, name: String, format: InputFormat?, seed: Seed, quiet: Bool, index: Int) {
        let input: ImportedInput
        do {
            input = try ResultInputs.load(text: text, name: name, options: ImportOptions(format: format))
        } catch let e as ResultsError {
            counts["refused", default: 0] += 1
            let d = e.description
            if d.contains("\n") || d.contains("\r") || d.count > 400 { fail(index, seed, "error is not one short line: \(d.prefix(200).debugDescription)") }
            return
        } catch {
            fail(index, seed, "importer threw \(type(of: error)), not ResultsError: \(String(describing: error).prefix(200))")
            return
        }
        counts["imported", default: 0] += 1
        for r in input.set.rows where r.numberProblem() != nil { fail(index, seed, "a row passed with \(r.numberProblem()!)"); return }
        guard format == nil, !input.set.rows.isEmpty else { return }
        let doc = ReportBuilder.build(input.set, inputs: [InputSummary(path: name, format: input.format.rawValue, rowsRead: input.rowsRead)],
                                      options: ReportOptions(title: "fuzz"))
        var pages = [ReportWriter.markdown(doc), ReportWriter.html(doc)]
        for c in doc.charts { pages.append(SVGWriter.render(c)) }
        let cmp = Comparison(baseline: input.set, candidate: input.set)
        for f in CompareFormat.allCases { pages.append(cmp.render(f)) }
        counts["reported", default: 0] += 1
        if quiet, let bad = pages.lazy.compactMap(Self.nonFinite).first {
            fail(index, seed, "'\(bad)' reached the report or compare output from an input without it")
        }
    }

    /// A standalone `inf`, `nan` or `infinity` (any case) in `page`, or nil.
    static func nonFinite(_ page: String) -> String? {
        let lower = page.lowercased()
        for word in ["infinity", "inf", "nan"] {
            var from = lower.startIndex
            while let r = lower.range(of: word, range: from..<lower.endIndex) {
                let before = r.lowerBound == lower.startIndex ? nil : lower[lower.index(before: r.lowerBound)]
                let after = r.upperBound == lower.endIndex ? nil : lower[r.upperBound]
                if !(before?.isLetter ?? false), !(after?.isLetter ?? false) {
                    let lo = lower.index(r.lowerBound, offsetBy: -20, limitedBy: lower.startIndex) ?? lower.startIndex
                    let hi = lower.index(r.upperBound, offsetBy: 20, limitedBy: lower.endIndex) ?? lower.endIndex
                    return String(page[lo..<hi])
                }
                from = r.upperBound
            }
        }
        return nil
    }

    /// `gpucomm import`, `report` and `compare` as a user runs them, in-process.
    private func commandLine(_ bytes: [UInt8], seed: Seed, index: Int) {
        let dir = work.appendingPathComponent("cli")
        try? FileManager.default.removeItem(at: dir)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let input = dir.appendingPathComponent(seed.name).path
        try? FileManager.default.createDirectory(atPath: (input as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? Data(bytes).write(to: URL(fileURLWithPath: input))
        let seedFile = dir.appendingPathComponent("seed-" + (seed.name as NSString).lastPathComponent).path
        try? Data(seed.bytes).write(to: URL(fileURLWithPath: seedFile))
        let out = dir.appendingPathComponent("out.jsonl").path, csv = dir.appendingPathComponent("out.csv").path
        let report = dir.appendingPathComponent("report").path

        let imported = InProcess.run(["import", input, "-o", out])
        check(imported, ["import"], index: index, seed: seed)
        if imported == 0 {
            if (try? ResultInputs.load(path: out)) == nil { fail(index, seed, "import -o wrote a file that does not read back") }
        } else if FileManager.default.fileExists(atPath: out) {
            fail(index, seed, "import exited \(imported) and left \(out) (a partial output)")
        }
        let asCSV = InProcess.run(["import", "--csv", input, "-o", csv])
        check(asCSV, ["import --csv"], index: index, seed: seed)
        if asCSV != 0 && FileManager.default.fileExists(atPath: csv) { fail(index, seed, "import --csv exited \(asCSV) and left \(csv)") }

        let reported = InProcess.run(["report", input, "--out", report])
        check(reported, ["report"], index: index, seed: seed)
        if reported == 0 {
            let html = (try? String(contentsOfFile: report + "/report.html", encoding: .utf8)) ?? ""
            if !html.hasSuffix("</html>\n") { fail(index, seed, "report exited 0 but report.html is not whole") }
        } else if FileManager.default.fileExists(atPath: report) {
            fail(index, seed, "report exited \(reported) and left \(report)")
        }
        check(InProcess.run(["compare", seedFile, input]), ["compare"], index: index, seed: seed, allowed: [0, 2, 4])
        counts["cli", default: 0] += 1
    }

    private func check(_ status: Int32, _ what: [String], index: Int, seed: Seed, allowed: Set<Int32> = [0, 2]) {
        counts["\(what[0]) exit \(status)", default: 0] += 1
        if !allowed.contains(status) { fail(index, seed, "\(what[0]) exited \(status) (documented: \(allowed.sorted()))") }
    }
}
