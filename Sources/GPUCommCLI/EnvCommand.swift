import ArgumentParser

struct EnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "env", abstract: "Show the driver, CUDA, NCCL, NVSHMEM and GPUs found, and how to fix what is missing.")

    func run() throws {
        throw Failure(.failure, "'env' is not built yet")
    }
}
