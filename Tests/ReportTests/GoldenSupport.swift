import Foundation
import GoldenFiles
import Testing

/// Golden files: compared with the test bundle's copy in `Golden/` (the source tree's when absent);
/// GoldenFile writes `<name>.actual` beside the source golden on a mismatch.
enum Golden {
    static let sourceDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func check(_ actual: String, against name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let bundled = Bundle.module.resourceURL!.appendingPathComponent("Golden").appendingPathComponent(name)
        try GoldenFile.check(actual, golden: sourceDir.appendingPathComponent(name),
                             expectedText: try? String(contentsOf: bundled, encoding: .utf8), sourceLocation: sourceLocation)
    }
}
