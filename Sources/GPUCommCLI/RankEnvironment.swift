import Driver
import Foundation
import Launch

/// Whether an outside launcher (mpirun, srun, torchrun, Kubernetes) started this process as a rank.
enum RankEnvironment {
    /// True when the environment describes one rank of a multi-process job. A launcher's variables that
    /// are present but wrong (a missing rendezvous address across nodes, a rank out of range, ...) are a
    /// usage error (exit 2), never "no launcher": otherwise each rank would start a local job of its own.
    static func present(_ env: [String: String]) throws -> Bool {
        do { return try RankDiscovery.detect(environment: env) != nil } catch {
            throw Failure(.usage, "\(error)")
        }
    }
}
