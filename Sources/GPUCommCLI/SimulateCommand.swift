import ArgumentParser

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "simulate", abstract: "Simulate multi-NIC selection policies beyond one host.")

    func run() throws {
        throw Failure(.failure, "'simulate' is not built yet")
    }
}
