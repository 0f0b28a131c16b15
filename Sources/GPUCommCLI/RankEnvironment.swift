import Foundation
import Launch

/// Whether an outside launcher (mpirun, srun, torchrun, Kubernetes) started this process as a rank.
enum RankEnvironment {
    static func present(_ env: [String: String]) -> Bool {
        (try? RankDiscovery.detect(environment: env)) != nil
    }
}
