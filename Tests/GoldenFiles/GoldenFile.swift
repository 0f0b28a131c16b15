import Foundation
import Testing

/// Golden-file comparison shared by the test targets.
///
/// `check` compares text with a golden file; on a mismatch it writes the new output beside the
/// golden as `<name>.actual` and records an issue naming the first differing line.
/// `GPUCOMM_UPDATE_GOLDEN=1` rewrites the golden instead.
public enum GoldenFile {
    /// - Parameters:
    ///   - golden: the golden file in the source tree (written on update, `.actual` beside it).
    ///   - expectedText: what to compare with when it is not read from `golden` (e.g. a bundled copy).
    public static func check(_ actual: String, golden: URL, expectedText: String? = nil,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        let actualURL = golden.appendingPathExtension("actual")
        if ProcessInfo.processInfo.environment["GPUCOMM_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: golden, atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(at: actualURL)
            return
        }
        let expected = expectedText ?? (try? String(contentsOf: golden, encoding: .utf8))
        if expected == actual {
            try? FileManager.default.removeItem(at: actualURL)
            return
        }
        try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
        try actual.write(to: actualURL, atomically: true, encoding: .utf8)
        guard let expected else {
            Issue.record("golden \(golden.lastPathComponent) is missing; new output: \(actualURL.path) (GPUCOMM_UPDATE_GOLDEN=1 creates it)",
                         sourceLocation: sourceLocation)
            return
        }
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var i = 0
        while i < min(e.count, a.count), e[i] == a[i] { i += 1 }
        let want = i < e.count ? String(e[i]) : "<end>"
        let got = i < a.count ? String(a[i]) : "<end>"
        Issue.record("golden \(golden.lastPathComponent) differs at line \(i + 1)\n- \(want)\n+ \(got)\nnew output: \(actualURL.path)",
                     sourceLocation: sourceLocation)
    }
}
