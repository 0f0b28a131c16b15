import ArgumentParser

struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Watch NVLink and RDMA NIC traffic live.")

    func run() throws {
        throw Failure(.failure, "'top' is not built yet")
    }
}
