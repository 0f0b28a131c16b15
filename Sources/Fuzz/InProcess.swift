import Driver
import ArgumentParser
import Foundation
import GPUCommCLI

/// Runs a gpucomm command line in this process and returns the exit status `main` would give.
enum InProcess {
    static func run(_ arguments: [String]) -> Int32 {
        do {
            var command = try GPUComm.parseAsRoot(arguments)
            try command.run()
            return ExitStatus.ok.rawValue
        } catch let f as Failure {
            return f.status.rawValue
        } catch {
            let code = GPUComm.exitCode(for: error)
            if code == .success { return ExitStatus.ok.rawValue }
            if code == .validationFailure { return ExitStatus.usage.rawValue }
            return ExitStatus.failure.rawValue
        }
    }
}
