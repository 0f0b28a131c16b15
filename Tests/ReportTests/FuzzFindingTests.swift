import Foundation
import Testing
import Results
@testable import Report

/// Inputs the CI fuzzer (.ci/fuzz.sh) found, kept as regression fixtures: each goes through the
/// importers, the report and compare without a crash, and nothing non-finite reaches the page.
@Suite struct FuzzFindingTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ResultsTests/Fixtures/fuzz")
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()

    @Test func thereAreFindings() { #expect(!Self.files.isEmpty) }

    @Test(arguments: files)
    func findingReportsWithoutInfOrNaN(_ file: String) throws {
        let text = String(decoding: try Data(contentsOf: Self.folder.appendingPathComponent(file)), as: UTF8.self)
        // The fixture keeps the seed's file name after the first '-' (the study file names pick the importer's collective).
        let name = file.contains("jacobi") ? "jacobi.csv" : file
        guard let input = try? ResultInputs.load(text: text, name: name) else { return }  // a refusal is a fine answer
        let doc = ReportBuilder.build(input.set, inputs: [], options: ReportOptions(title: "fuzz finding"))
        var pages = [ReportWriter.markdown(doc), ReportWriter.html(doc)] + doc.charts.map(SVGWriter.render)
        let cmp = Comparison(baseline: input.set, candidate: input.set)
        pages += CompareFormat.allCases.map { cmp.render($0) }
        for page in pages { #expect(Self.standalone(["inf", "nan", "infinity"], in: page) == nil, "\(file)") }
    }

    /// The first of `words` standing alone (no letter either side, any case) in `page`.
    static func standalone(_ words: [String], in page: String) -> String? {
        let lower = page.lowercased()
        for w in words {
            var from = lower.startIndex
            while let r = lower.range(of: w, range: from..<lower.endIndex) {
                let before = r.lowerBound == lower.startIndex ? nil : lower[lower.index(before: r.lowerBound)]
                let after = r.upperBound == lower.endIndex ? nil : lower[r.upperBound]
                if !(before?.isLetter ?? false), !(after?.isLetter ?? false) { return w }
                from = r.upperBound
            }
        }
        return nil
    }
}
