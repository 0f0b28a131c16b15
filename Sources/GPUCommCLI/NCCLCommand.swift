import ArgumentParser

struct NCCLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nccl", abstract: "Benchmark NCCL collectives (nccl-tests compatible flags and table).")

    func run() throws {
        throw Failure(.failure, "'nccl' is not built yet")
    }
}
