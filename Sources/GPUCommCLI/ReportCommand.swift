import ArgumentParser

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Write an HTML and Markdown report with charts from results.")

    func run() throws {
        throw Failure(.failure, "'report' is not built yet")
    }
}
