import ArgumentParser

struct SuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "suite", abstract: "Run the standard sweep of every benchmark that applies to the visible GPUs.")

    func run() throws {
        throw Failure(.failure, "'suite' is not built yet")
    }
}
