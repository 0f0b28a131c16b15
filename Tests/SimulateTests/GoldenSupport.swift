import Foundation
import GoldenFiles
import Testing

/// Golden files live in `Golden/` beside this source file (GoldenFile: `.actual` on mismatch).
enum Golden {
    static let sourceDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// The repository's root (two levels above this folder).
    static let repoRoot = sourceDir.deletingLastPathComponent().deletingLastPathComponent()

    static func check(_ actual: String, against name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try GoldenFile.check(actual, golden: sourceDir.appendingPathComponent("Golden").appendingPathComponent(name), sourceLocation: sourceLocation)
    }
}
