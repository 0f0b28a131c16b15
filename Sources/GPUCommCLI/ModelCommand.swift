import ArgumentParser

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Fit an alpha-beta scaling model to results and predict other sizes and GPU counts.")

    func run() throws {
        throw Failure(.failure, "'model' is not built yet")
    }
}
