import ArgumentParser

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Turn other tools' output into gpucomm records.")

    func run() throws {
        throw Failure(.failure, "'import' is not built yet")
    }
}
