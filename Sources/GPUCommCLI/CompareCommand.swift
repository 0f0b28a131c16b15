import ArgumentParser

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare", abstract: "Compare a baseline and a candidate result set; exit 4 on a regression.")

    func run() throws {
        throw Failure(.failure, "'compare' is not built yet")
    }
}
