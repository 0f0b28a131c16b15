import Foundation

enum NCCLTestsTextImporter {
    static func recognizes(line: String) -> Bool { false }

    static func parse(text: String, name: String, options: ImportOptions) throws -> ImportedInput {
        throw ResultsError(file: name, "this importer is not built yet")
    }
}
