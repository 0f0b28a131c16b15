// Launch: the values every other part of the launcher passes around.
import Foundation

/// Which launcher started this process (from the environment it left behind).
public enum Launcher: String, Sendable, CaseIterable {
    /// Not a multi-process job: one process drives every GPU it uses.
    case single
    /// gpucomm's own local launcher (`--np N`), variables `GPUCOMM_*`.
    case local
    /// Open MPI's `mpirun` / `mpiexec` (`OMPI_COMM_WORLD_*`).
    case mpirun
    /// Slurm's `srun` (`SLURM_PROCID`, `SLURM_STEP_NODELIST`, ...).
    case srun
    /// PyTorch's `torchrun` or any launcher that sets `RANK`/`WORLD_SIZE`/`MASTER_ADDR`/`MASTER_PORT`.
    case torchrun
    /// A Kubernetes indexed Job / JobSet (`JOB_COMPLETION_INDEX`), or the Kubeflow PyTorchJob operator.
    case kubernetes
    /// MPICH / Intel MPI's Hydra (`PMI_RANK`, `PMI_SIZE`, `MPI_LOCALRANKID`).
    case mpich
}

/// Where rank 0 listens: a host name or address and a TCP port.
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    /// Host name, IPv4 address or IPv6 address (without brackets).
    public var host: String
    /// TCP port.
    public var port: UInt16

    /// Makes an endpoint from its parts.
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `[v6addr]:port`; the port must be 1...65535.
    public init(parsing text: String) throws(LaunchError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var host: Substring
        var portText: Substring
        if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            let rest = trimmed[trimmed.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw .badEnvironment("'\(text)' has no port: expected [address]:port")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = trimmed.lastIndex(of: ":") else {
                throw .badEnvironment("'\(text)' has no port: expected host:port")
            }
            host = trimmed[..<colon]
            portText = trimmed[trimmed.index(after: colon)...]
        }
        guard !host.isEmpty else { throw .badEnvironment("'\(text)' has no host: expected host:port") }
        guard let port = UInt16(portText), port > 0 else {
            throw .badEnvironment("'\(text)' has a bad port '\(portText)': expected 1...65535")
        }
        self.host = String(host)
        self.port = port
    }

    /// `host:port`, with brackets around an IPv6 address.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Who this process is in a multi-process job, as learned from the environment.
public struct RankInfo: Sendable, Equatable {
    /// This process's rank, 0..<worldSize.
    public var rank: Int
    /// Number of processes in the job.
    public var worldSize: Int
    /// Rank among the processes on this host (picks the GPU when each process drives one).
    public var localRank: Int
    /// Number of processes on this host, when the launcher says.
    public var localSize: Int?
    /// The launcher that set the variables.
    public var launcher: Launcher
    /// Where rank 0 listens for the rendezvous.
    public var rendezvous: Endpoint?
    /// Shared secret that every rank presents; nil means no token (every rank must agree on that too).
    public var token: String?
    /// This host's name, as the other ranks will print it.
    public var host: String

    /// Makes a rank description from its parts.
    public init(rank: Int, worldSize: Int, localRank: Int, localSize: Int? = nil, launcher: Launcher,
                rendezvous: Endpoint?, token: String?, host: String) {
        self.rank = rank
        self.worldSize = worldSize
        self.localRank = localRank
        self.localSize = localSize
        self.launcher = launcher
        self.rendezvous = rendezvous
        self.token = token
        self.host = host
    }
}

/// Why discovery, the rendezvous or the job's control channel failed. Every case maps to exit status 6
/// except `badEnvironment`, which is a usage error (2).
public enum LaunchError: Error, CustomStringConvertible, Sendable, Equatable {
    /// An environment variable or option is missing or inconsistent; the text names it.
    case badEnvironment(String)
    /// The rendezvous did not complete in time; `missingRanks` never arrived (empty when unknown).
    case timeout(missingRanks: [Int], waitedSeconds: Double)
    /// Rank 0 never accepted a connection at `rendezvous` before the deadline; `lastError` is the system's
    /// words for the last attempt (connection refused, no route, a name that does not resolve, ...).
    case unreachable(rendezvous: String, lastError: String, waitedSeconds: Double)
    /// Rank 0 (at `rendezvous`) refused this rank (`rank`) because its token differs.
    case wrongToken(rank: Int, rendezvous: String)
    /// Another rank died or stopped answering after the job had started.
    case rankFailed(rank: Int, host: String?, detail: String)
    /// Rank 0 refused this rank for another reason (duplicate rank, different world size, ...).
    case refused(String)
    /// A socket call failed; the text names the call and the system's words.
    case io(String)

    /// gpucomm's exit status for this error: 2 (usage) for `badEnvironment`, else 6 (a rank failed).
    public var exitStatus: Int32 {
        if case .badEnvironment = self { return 2 }
        return 6
    }

    public var description: String {
        switch self {
        case .badEnvironment(let text):
            return "launch environment: \(text)"
        case .timeout(let missing, let waited):
            let secs = LaunchError.seconds(waited)
            switch missing.count {
            case 0: return "rendezvous timed out after \(secs)"
            case 1 where missing == [0]: return "rendezvous timed out after \(secs): rank 0 never answered"
            case 1: return "rendezvous timed out after \(secs): rank \(missing[0]) never arrived"
            default:
                return "rendezvous timed out after \(secs): ranks \(LaunchError.list(missing)) never arrived"
            }
        case .unreachable(let at, let lastError, let waited):
            return "rendezvous timed out after \(LaunchError.seconds(waited)): rank 0 never answered at \(at) "
                + "(last attempt: \(lastError))"
        case .wrongToken(let rank, let at):
            return "rank 0 at \(at) refused rank \(rank): wrong rendezvous token "
                + "(every rank must have the same GPUCOMM_TOKEN; or another job's rank 0 holds this port)"
        case .rankFailed(let rank, let host, let detail):
            return "rank \(rank)\(host.map { " on \($0)" } ?? "") died: \(detail)"
        case .refused(let reason):
            return "rendezvous refused: \(reason)"
        case .io(let text):
            return "rendezvous: \(text)"
        }
    }

    static func seconds(_ s: Double) -> String {
        s >= 10 ? "\(Int(s.rounded())) s" : String(format: "%.1f s", s)
    }

    static func list(_ ranks: [Int]) -> String {
        if ranks.count <= 12 { return ranks.map(String.init).joined(separator: ", ") }
        return ranks.prefix(12).map(String.init).joined(separator: ", ") + " and \(ranks.count - 12) more"
    }
}

/// Process-level helpers for ranks.
public enum Launch {
    /// Asks the kernel to send SIGKILL to this process when its parent dies (Linux `prctl(PR_SET_PDEATHSIG)`),
    /// so ranks spawned by the local launcher never outlive it. Call it first thing in a rank. A no-op elsewhere.
    public static func dieWithParent() {
        #if os(Linux)
        // prctl is variadic and its header is not in Glibc's module map: call it through dlsym with a fixed
        // signature (integer arguments travel in the same registers on x86_64 and aarch64 Linux).
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        let PR_SET_PDEATHSIG: Int32 = 1  // <linux/prctl.h>
        if let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "prctl") {
            _ = unsafeBitCast(symbol, to: Prctl.self)(PR_SET_PDEATHSIG, UInt(SIGKILL), 0, 0, 0)
        }
        // The local launcher may have died before the call: then we were re-parented already.
        if let text = ProcessInfo.processInfo.environment[LocalLauncher.parentVariable],
           let launcher = Int32(text), getppid() != launcher {
            kill(getpid(), SIGKILL)
        }
        #endif
    }

    /// The parent process as `pid` or `pid@start` (start time in clock ticks since boot, from
    /// `/proc/<ppid>/stat`, so a reused pid is a different parent). Every local rank of one Hydra job has the
    /// same parent; `RankDiscovery` uses it as the job id where the launcher exports none.
    public static func parentIdentity() -> String {
        let ppid = getppid()
        guard let stat = try? String(contentsOfFile: "/proc/\(ppid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return "\(ppid)" }
        // Fields after "pid (comm)": state is field 3, starttime is field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? "\(ppid)@\(fields[19])" : "\(ppid)"
    }

    /// This host's name (`gethostname`).
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
