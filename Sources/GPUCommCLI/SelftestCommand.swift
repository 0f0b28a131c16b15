import ArgumentParser

struct SelftestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "selftest", abstract: "Check every collective, type, op and buffer mode on the visible GPUs.")

    func run() throws {
        throw Failure(.failure, "'selftest' is not built yet")
    }
}
