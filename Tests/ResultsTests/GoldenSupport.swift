import Foundation
import GoldenFiles
import Testing
@testable import Results

/// Fixture and golden-file helpers. Fixtures come from the test bundle; goldens are read from and
/// (on mismatch) written beside the source tree, so `<name>.actual` lands next to `<name>`.
enum Golden {
    static let sourceDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// Path of a fixture inside the test bundle's `Fixtures` folder.
    static func fixturePath(_ relative: String) -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(relative).path
    }

    static func fixtureText(_ relative: String) throws -> String {
        try String(contentsOfFile: fixturePath(relative), encoding: .utf8)
    }

    /// Imports a fixture under its relative name, so `source` and run ids do not depend on where the bundle lies.
    static func importFixture(_ relative: String, options: ImportOptions = ImportOptions()) throws -> ImportedInput {
        try ResultInputs.load(text: try fixtureText(relative), name: relative, options: options)
    }

    /// The text a golden file holds for an import: a summary comment, then the JSON Lines.
    static func render(_ input: ImportedInput) throws -> String {
        var out = "# format: \(input.format.rawValue), rows: \(input.rowsRead), skipped: \(input.skipped.count)\n"
        for s in input.skipped { out += "# skipped \(s)\n" }
        for r in input.set.runs { out += try ResultsCodec.encode(.run(r)) + "\n" }
        for r in input.set.rows { out += try ResultsCodec.encode(.result(r)) + "\n" }
        return out
    }

    /// Compares `actual` with `Golden/<name>` (GoldenFile: `.actual` on mismatch, GPUCOMM_UPDATE_GOLDEN=1 rewrites).
    static func check(_ actual: String, against name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try GoldenFile.check(actual, golden: sourceDir.appendingPathComponent("Golden").appendingPathComponent(name), sourceLocation: sourceLocation)
    }
}
