import Foundation
import Testing

/// Golden files: read from the test bundle's `Golden` folder; on mismatch the new output is
/// written beside the golden in the source tree as `<name>.actual` and the test fails.
/// `GPUCOMM_UPDATE_GOLDEN=1` rewrites the goldens in the source tree instead.
enum Golden {
    static let sourceDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func check(_ actual: String, against name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let source = sourceDir.appendingPathComponent(name)
        let actualURL = source.appendingPathExtension("actual")
        if ProcessInfo.processInfo.environment["GPUCOMM_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: source, atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(at: actualURL)
            return
        }
        let bundled = Bundle.module.resourceURL!.appendingPathComponent("Golden").appendingPathComponent(name)
        let expected = (try? String(contentsOf: bundled, encoding: .utf8)) ?? (try? String(contentsOf: source, encoding: .utf8))
        if expected == actual {
            try? FileManager.default.removeItem(at: actualURL)
            return
        }
        try actual.write(to: actualURL, atomically: true, encoding: .utf8)
        guard let expected else {
            Issue.record("golden \(name) is missing; new output: \(actualURL.path) (GPUCOMM_UPDATE_GOLDEN=1 creates it)", sourceLocation: sourceLocation)
            return
        }
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var i = 0
        while i < min(e.count, a.count), e[i] == a[i] { i += 1 }
        let want = i < e.count ? String(e[i]) : "<end>"
        let got = i < a.count ? String(a[i]) : "<end>"
        Issue.record("golden \(name) differs at line \(i + 1)\n- \(want)\n+ \(got)\nnew output: \(actualURL.path)", sourceLocation: sourceLocation)
    }
}
