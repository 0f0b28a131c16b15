import Foundation
import Testing

/// Golden files live in `Golden/` beside this source file; a mismatch writes `<name>.actual`
/// there and records an issue; `GPUCOMM_UPDATE_GOLDEN=1` rewrites the golden instead.
enum Golden {
    static let sourceDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// The repository's root (two levels above this folder).
    static let repoRoot = sourceDir.deletingLastPathComponent().deletingLastPathComponent()

    static func check(_ actual: String, against name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let golden = sourceDir.appendingPathComponent("Golden").appendingPathComponent(name)
        let actualURL = golden.appendingPathExtension("actual")
        if ProcessInfo.processInfo.environment["GPUCOMM_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: golden, atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(at: actualURL)
            return
        }
        let expected = (try? String(contentsOf: golden, encoding: .utf8)) ?? ""
        if expected == actual {
            try? FileManager.default.removeItem(at: actualURL)
            return
        }
        try actual.write(to: actualURL, atomically: true, encoding: .utf8)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var i = 0
        while i < min(e.count, a.count), e[i] == a[i] { i += 1 }
        let want = i < e.count ? String(e[i]) : "<end>"
        let got = i < a.count ? String(a[i]) : "<end>"
        Issue.record("golden \(name) differs at line \(i + 1)\n- \(want)\n+ \(got)\nnew output: \(actualURL.path)",
                     sourceLocation: sourceLocation)
    }
}
