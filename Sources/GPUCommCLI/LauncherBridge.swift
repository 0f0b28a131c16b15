import Foundation
import Launch

/// Re-runs this binary as N local ranks.
enum LocalLauncherBridge {
    static func run(ranks: Int, arguments: [String], timeout: Int) -> Int32 {
        LocalLauncher.run(ranks: ranks, executable: LocalLauncher.currentExecutable(), arguments: arguments,
                          environment: ProcessInfo.processInfo.environment, timeout: .seconds(timeout))
    }
}

/// Whether an outside launcher (mpirun, srun, torchrun, Kubernetes) started this process as a rank.
enum RankEnvironment {
    static func present(_ env: [String: String]) -> Bool {
        (try? RankDiscovery.detect(environment: env)) != nil
    }
}
