import ArgumentParser
import Driver
import Foundation
import GPU
import Launch

/// The root command: `gpucomm <subcommand>`.
public struct GPUComm: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gpucomm",
        abstract: "Measure and explain GPU-to-GPU communication (NCCL, NVSHMEM, NVLink, RDMA NICs).",
        discussion: """
        Start with `gpucomm suite`: a short standard sweep of every benchmark that applies to \
        the visible GPUs, one results file, a summary. `gpucomm env` shows what was found.
        Exit codes: 0 ok, 1 failure, 2 usage, 3 wrong results, 4 regression, \
        5 GPU or library unavailable, 6 a rank failed or never arrived (docs/errors.md).
        """,
        version: GPUCommVersion.description,
        subcommands: [
            SuiteCommand.self, EnvCommand.self, NCCLCommand.self, NVSHMEMCommand.self, SelftestCommand.self,
            ImportCommand.self, ReportCommand.self, CompareCommand.self,
            TopCommand.self, SimulateCommand.self, ModelCommand.self,
            RendezvousProbeCommand.self, CompileKernelsCommand.self, StencilTuneCommand.self, LaunchCheckCommand.self,
            NCCLDeviceCommand.self,
            AlltoallCommand.self,
            JacobiCommand.self,
            CopyCommand.self,
            MoECommand.self,
        ]
    )

    public init() {}
}

/// Entry point used by `main.swift`: parses, runs, maps errors to documented exit codes.
public enum GPUCommMain {
    public static func run() -> Never {
        // Line-buffered stdout: a table piped to a file keeps every finished row if the process is killed.
        lineBufferStandardOutput()
        do {
            var command = try GPUComm.parseAsRoot()
            try command.run()
            exit(ExitStatus.ok.rawValue)
        } catch let b as BenchmarkError {
            // A job's error: the rank, host and benchmark, then the error's own words and exit status.
            FileHandle.standardError.write(Data("gpucomm: rank \(b.rank) on \(b.host), \(b.benchmark): \(message(b.underlying))\n".utf8))
            exit(status(b.underlying).rawValue)
        } catch let f as Failure {
            if !f.message.isEmpty { FileHandle.standardError.write(Data("gpucomm: \(f.message)\n".utf8)) }
            exit(f.status.rawValue)
        } catch let e as LaunchError {
            FileHandle.standardError.write(Data("gpucomm: \(e)\n".utf8))
            exit(ExitStatus.rankFailed.rawValue)
        } catch let e as LibraryNotFound {
            FileHandle.standardError.write(Data("gpucomm: \(e)\n".utf8))
            exit(ExitStatus.unavailable.rawValue)
        } catch let e as MissingSymbol {
            FileHandle.standardError.write(Data("gpucomm: \(e)\n".utf8))
            exit(ExitStatus.unavailable.rawValue)
        } catch {
            let code = GPUComm.exitCode(for: error)
            if code == .success {
                print(GPUComm.fullMessage(for: error))
                exit(ExitStatus.ok.rawValue)
            }
            if code == .validationFailure {
                // One line: the problem, without the usage block (`--help` has that).
                var m = GPUComm.message(for: error)
                if m.hasPrefix("Error: ") { m.removeFirst(7) }
                FileHandle.standardError.write(Data("gpucomm: \(m)\n".utf8))
                exit(ExitStatus.usage.rawValue)
            }
            // A library's or the system's error (CUDAError, NCCLError, CompileError, I/O): its own words.
            FileHandle.standardError.write(Data("gpucomm: \(error)\n".utf8))
            exit(ExitStatus.failure.rawValue)
        }
    }

    /// The exit status of an error raised inside a benchmark (docs/errors.md).
    static func status(_ e: any Error) -> ExitStatus {
        switch e {
        case let f as Failure: return f.status
        case is LaunchError: return .rankFailed
        case is LibraryNotFound, is MissingSymbol: return .unavailable
        default: return .failure
        }
    }

    static func message(_ e: any Error) -> String { (e as? Failure)?.message ?? "\(e)" }
}
