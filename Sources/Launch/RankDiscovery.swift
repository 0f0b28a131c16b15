// Which rank am I? Read from the variables each launcher sets. docs/launch.md lists them all.
import Foundation

/// Learns rank, world size, local rank and rank 0's address from the environment.
public enum RankDiscovery {
    /// Detects the launcher and this process's place in the job.
    ///
    /// Returns nil when the environment says this is not one rank of a multi-process job (no launcher
    /// variables, or a world size of 1). Precedence: gpucomm's own `GPUCOMM_RANK`, Open MPI, MPICH/Hydra,
    /// Slurm `srun`, torchrun-style `RANK`, Kubernetes `JOB_COMPLETION_INDEX`. `rendezvousOverride` (a
    /// command-line option) beats `GPUCOMM_RENDEZVOUS`, which beats what the launcher implies;
    /// `GPUCOMM_TOKEN` beats the token derived from the job id.
    ///
    /// - Parameter parent: identifies the parent process (`Launch.parentIdentity()`); it stands in for the
    ///   job id under a launcher that exports none (MPICH's Hydra), since every local rank of one job has the
    ///   same parent (the Hydra proxy) and two jobs on one node have different ones.
    public static func detect(environment env: [String: String], rendezvousOverride: Endpoint? = nil,
                              parent: String = Launch.parentIdentity()) throws(LaunchError) -> RankInfo? {
        guard var found = try fromLauncher(env, parent: parent) else { return nil }
        if found.size < 1 { throw .badEnvironment("\(found.sizeName)=\(found.size): the world size must be at least 1") }
        if found.rank < 0 || found.rank >= found.size {
            throw .badEnvironment("\(found.rankName)=\(found.rank) is outside 0..<\(found.size) (\(found.sizeName))")
        }
        if let ls = found.localSize, ls < 1 {
            throw .badEnvironment("local size \(ls) must be at least 1")
        }
        if found.localRank < 0 || (found.localSize.map { found.localRank >= $0 } ?? false) {
            throw .badEnvironment("local rank \(found.localRank) is outside 0..<\(found.localSize ?? 0)")
        }
        if found.size == 1 { return nil }

        if let override = rendezvousOverride {
            found.rendezvous = override
        } else if let text = env["GPUCOMM_RENDEZVOUS"], !text.isEmpty {
            do { found.rendezvous = try Endpoint(parsing: text) } catch {
                throw .badEnvironment("GPUCOMM_RENDEZVOUS: \(error.detail)")
            }
        } else if let problem = found.rendezvousProblem {
            throw .badEnvironment(problem)
        }
        guard let rendezvous = found.rendezvous else {
            throw .badEnvironment("GPUCOMM_RENDEZVOUS is not set: rank 0's host:port is unknown under \(found.launcher.rawValue)")
        }
        let token = env["GPUCOMM_TOKEN"].flatMap { $0.isEmpty ? nil : $0 } ?? found.derivedToken
        return RankInfo(rank: found.rank, worldSize: found.size, localRank: found.localRank, localSize: found.localSize,
                        launcher: found.launcher, rendezvous: rendezvous, token: token, host: Launch.hostName())
    }

    /// The address rank 0 listens on: `GPUCOMM_BIND`, else all interfaces (`0.0.0.0`).
    public static func bindAddress(environment env: [String: String]) -> String {
        env["GPUCOMM_BIND"].flatMap { $0.isEmpty ? nil : $0 } ?? "0.0.0.0"
    }

    /// Default rendezvous port when the launcher names a host but no port: derived from the job id so two
    /// jobs sharing a node pick different ports, in 20000..<50000.
    public static func derivedPort(jobID: String) -> UInt16 {
        var hash: UInt32 = 2_166_136_261  // FNV-1a
        for byte in jobID.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return UInt16(20_000 + hash % 30_000)
    }

    // MARK: - One function per launcher

    struct Found {
        var launcher: Launcher
        var rank: Int, size: Int, localRank: Int, localSize: Int?
        var rankName: String, sizeName: String
        var rendezvous: Endpoint?
        var rendezvousProblem: String?
        var derivedToken: String?
    }

    static func fromLauncher(_ env: [String: String], parent: String = "") throws(LaunchError) -> Found? {
        if env["GPUCOMM_RANK"] != nil { return try gpucomm(env) }
        if env["OMPI_COMM_WORLD_RANK"] != nil { return try openMPI(env) }
        if env["PMI_RANK"] != nil {
            let pmi = try mpich(env, parent: parent)
            // srun --mpi=pmi2 sets PMI_RANK too; when Slurm agrees, Slurm knows more (the node list).
            if let slurm = try slurm(env), slurm.rank == pmi.rank, slurm.size == pmi.size { return slurm }
            return pmi
        }
        if let slurm = try slurm(env) { return slurm }
        if env["RANK"] != nil, env["WORLD_SIZE"] != nil { return try torchrun(env) }
        if env["JOB_COMPLETION_INDEX"] != nil, env["GPUCOMM_WORLD_SIZE"] != nil { return try indexedJob(env) }
        return nil
    }

    static func gpucomm(_ env: [String: String]) throws(LaunchError) -> Found {
        let size = try required(env, "GPUCOMM_WORLD_SIZE")
        let rank = try required(env, "GPUCOMM_RANK")
        return Found(launcher: .local, rank: rank, size: size,
                     localRank: try optional(env, "GPUCOMM_LOCAL_RANK") ?? rank,
                     localSize: try optional(env, "GPUCOMM_LOCAL_SIZE") ?? size,
                     rankName: "GPUCOMM_RANK", sizeName: "GPUCOMM_WORLD_SIZE", rendezvous: nil,
                     rendezvousProblem: "GPUCOMM_RENDEZVOUS is not set (gpucomm's launcher sets it with GPUCOMM_RANK)")
    }

    static func openMPI(_ env: [String: String]) throws(LaunchError) -> Found {
        let rank = try required(env, "OMPI_COMM_WORLD_RANK")
        let size = try required(env, "OMPI_COMM_WORLD_SIZE")
        let localSize = try optional(env, "OMPI_COMM_WORLD_LOCAL_SIZE")
        // Open MPI 4 (ORTE) names the job in an MCA variable; Open MPI 5 (PRRTE) in the PMIx namespace.
        let job = env["OMPI_MCA_ess_base_jobid"] ?? env["OMPI_MCA_orte_ess_jobid"] ?? env["PMIX_NAMESPACE"]
        var found = Found(launcher: .mpirun, rank: rank, size: size,
                          localRank: try optional(env, "OMPI_COMM_WORLD_LOCAL_RANK") ?? 0, localSize: localSize,
                          rankName: "OMPI_COMM_WORLD_RANK", sizeName: "OMPI_COMM_WORLD_SIZE",
                          derivedToken: job.map { "ompi-\($0)" })
        singleNodeOrAsk(&found, jobID: job, how: "add -x GPUCOMM_RENDEZVOUS=<first host>:<port> to mpirun")
        return found
    }

    static func mpich(_ env: [String: String], parent: String) throws(LaunchError) -> Found {
        let rank = try required(env, "PMI_RANK")
        let size = try required(env, "PMI_SIZE")
        let localSize = try optional(env, "MPI_LOCALNRANKS")
        // Hydra exports no job id. On one node every rank of a job is a child of the same hydra_pmi_proxy,
        // and two jobs have two proxies: the parent names the job (issue 16: two `mpiexec -n 4` at once
        // both took port 39400 and no token). Across nodes the parents differ, so only PMI_JOBID counts.
        var job = env["PMI_JOBID"] ?? env["PMIX_NAMESPACE"]
        if job == nil, localSize == size, !parent.isEmpty { job = "parent-\(parent)" }
        var found = Found(launcher: .mpich, rank: rank, size: size,
                          localRank: try optional(env, "MPI_LOCALRANKID") ?? 0,
                          localSize: localSize,
                          rankName: "PMI_RANK", sizeName: "PMI_SIZE", derivedToken: job.map { "pmi-\($0)" })
        singleNodeOrAsk(&found, jobID: job, how: "add -genv GPUCOMM_RENDEZVOUS <first host>:<port> to mpiexec")
        return found
    }

    /// MPI launchers do not say where rank 0 runs: on one node it is loopback; across nodes the user says.
    static func singleNodeOrAsk(_ found: inout Found, jobID: String?, how: String) {
        if found.localSize == found.size {
            found.rendezvous = Endpoint(host: "127.0.0.1", port: derivedPort(jobID: jobID ?? "\(found.launcher)"))
        } else {
            found.rendezvousProblem = "GPUCOMM_RENDEZVOUS is not set and \(found.launcher.rawValue) does not say "
                + "which host runs rank 0 across nodes: \(how)"
        }
    }

    /// srun tasks only: the batch script itself also has SLURM_PROCID but no step id.
    static func slurm(_ env: [String: String]) throws(LaunchError) -> Found? {
        guard env["SLURM_PROCID"] != nil, env["SLURM_STEP_ID"] != nil || env["SLURM_STEPID"] != nil else { return nil }
        let sizeName = env["SLURM_STEP_NUM_TASKS"] != nil ? "SLURM_STEP_NUM_TASKS" : "SLURM_NTASKS"
        let size = try required(env, sizeName)
        let rank = try required(env, "SLURM_PROCID")
        let job = env["SLURM_JOB_ID"] ?? env["SLURM_JOBID"] ?? "0"
        let step = env["SLURM_STEP_ID"] ?? env["SLURM_STEPID"] ?? "0"
        var found = Found(launcher: .srun, rank: rank, size: size,
                          localRank: try optional(env, "SLURM_LOCALID") ?? 0, localSize: try slurmLocalSize(env),
                          rankName: "SLURM_PROCID", sizeName: sizeName, derivedToken: "slurm-\(job).\(step)")
        // Task 0 runs on the step's first node under block, cyclic and plane distributions (the first
        // level of SLURM_DISTRIBUTION); under `arbitrary` (a host file) it may run anywhere.
        let distribution = env["SLURM_DISTRIBUTION"].map { String($0.prefix { $0 != ":" && $0 != "," && $0 != "=" }) } ?? "block"
        if !["block", "cyclic", "plane", "unknown", "*", ""].contains(distribution) {
            found.rendezvousProblem = "SLURM_DISTRIBUTION=\(env["SLURM_DISTRIBUTION"]!): task 0 need not run on the "
                + "first node of the step; set GPUCOMM_RENDEZVOUS=<host of task 0>:<port> (e.g. srun --export=ALL,"
                + "GPUCOMM_RENDEZVOUS=$(head -1 $SLURM_HOSTFILE):29500)"
        } else if let list = env["SLURM_STEP_NODELIST"] ?? env["SLURM_JOB_NODELIST"] ?? env["SLURM_NODELIST"],
           let first = try Hostlist.first(list) {
            found.rendezvous = Endpoint(host: first, port: derivedPort(jobID: "\(job).\(step)"))
        } else {
            found.rendezvousProblem = "SLURM_STEP_NODELIST and SLURM_JOB_NODELIST are not set: cannot tell "
                + "which node runs rank 0; set GPUCOMM_RENDEZVOUS=host:port"
        }
        return found
    }

    /// Tasks on this node: this node's entry (`SLURM_NODEID`) of the step's per-node list, which is like
    /// `3,1` or `2(x3),1` (issue 16: `srun -N 2 -n 4` gives `3,1`, and the first entry was wrong on node 1).
    /// `SLURM_NTASKS_PER_NODE` (set only with `--ntasks-per-node`) when no list is there.
    static func slurmLocalSize(_ env: [String: String]) throws(LaunchError) -> Int? {
        let listName = ["SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE"].first { env[$0] != nil }
        guard let listName, let text = env[listName] else { return try optional(env, "SLURM_NTASKS_PER_NODE") }
        let counts = try perNodeCounts(text, name: listName)
        let node = try optional(env, "SLURM_NODEID") ?? 0
        guard node >= 0, node < counts.count else {
            throw .badEnvironment("SLURM_NODEID=\(node) is outside the \(counts.count) node(s) of \(listName)='\(text)'")
        }
        return counts[node]
    }

    /// Expands Slurm's per-node task counts: `2(x3),1` → [2, 2, 2, 1].
    static func perNodeCounts(_ text: String, name: String) throws(LaunchError) -> [Int] {
        var out: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "(", maxSplits: 1)
            let repeatText = parts.count == 2 ? parts[1] : nil
            guard let count = Int(parts.first ?? ""), count >= 0 else {
                throw .badEnvironment("\(name)='\(text)': '\(item)' is not a task count like 4 or 4(x2)")
            }
            var times = 1
            if let r = repeatText {
                guard r.hasPrefix("x"), r.hasSuffix(")"), let n = Int(r.dropFirst().dropLast()), n >= 1, n <= 1_000_000 else {
                    throw .badEnvironment("\(name)='\(text)': '\(item)' is not a task count like 4 or 4(x2)")
                }
                times = n
            }
            out += Array(repeating: count, count: times)
        }
        return out
    }

    /// torchrun, or the Kubeflow PyTorchJob operator (same variables, no elastic agent).
    static func torchrun(_ env: [String: String]) throws(LaunchError) -> Found {
        let rank = try required(env, "RANK")
        let size = try required(env, "WORLD_SIZE")
        let agent = env["TORCHELASTIC_RUN_ID"] != nil || env["TORCHELASTIC_USE_AGENT_STORE"] != nil
        let launcher: Launcher = !agent && env["KUBERNETES_SERVICE_HOST"] != nil ? .kubernetes : .torchrun
        var found = Found(launcher: launcher, rank: rank, size: size,
                          localRank: try optional(env, "LOCAL_RANK") ?? 0,
                          localSize: try optional(env, "LOCAL_WORLD_SIZE"),
                          rankName: "RANK", sizeName: "WORLD_SIZE",
                          derivedToken: env["TORCHELASTIC_RUN_ID"].map { "torchelastic-\($0)" })
        if let addr = env["MASTER_ADDR"], !addr.isEmpty {
            guard let portText = env["MASTER_PORT"], !portText.isEmpty else {
                throw .badEnvironment("MASTER_ADDR is set but MASTER_PORT is not")
            }
            guard let port = UInt16(portText), port > 0 else {
                throw .badEnvironment("MASTER_PORT='\(portText)' is not a port (1...65535)")
            }
            // torchrun's elastic agent already listens on MASTER_PORT (its TCPStore): use the next port.
            if agent && port == UInt16.max { throw .badEnvironment("MASTER_PORT=\(port) leaves no port above it") }
            found.rendezvous = Endpoint(host: addr, port: agent ? port + 1 : port)
        } else {
            found.rendezvousProblem = "RANK and WORLD_SIZE are set but MASTER_ADDR is not; set MASTER_ADDR and "
                + "MASTER_PORT, or GPUCOMM_RENDEZVOUS=host:port"
        }
        return found
    }

    /// Kubernetes indexed Job / JobSet: one pod per rank, the index is the rank.
    static func indexedJob(_ env: [String: String]) throws(LaunchError) -> Found {
        let size = try required(env, "GPUCOMM_WORLD_SIZE")
        return Found(launcher: .kubernetes, rank: try required(env, "JOB_COMPLETION_INDEX"), size: size,
                     localRank: try optional(env, "GPUCOMM_LOCAL_RANK") ?? 0,
                     localSize: try optional(env, "GPUCOMM_LOCAL_SIZE") ?? 1,
                     rankName: "JOB_COMPLETION_INDEX", sizeName: "GPUCOMM_WORLD_SIZE",
                     rendezvousProblem: "GPUCOMM_RENDEZVOUS is not set: in an indexed Job set it to the headless "
                        + "service name of index 0 and a port, e.g. myjob-0.myjob:29500",
                     derivedToken: env["JOBSET_NAME"].map { "jobset-\($0)" })
    }

    static func required(_ env: [String: String], _ name: String) throws(LaunchError) -> Int {
        guard let text = env[name] else { throw .badEnvironment("\(name) is not set") }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw .badEnvironment("\(name)='\(text)' is not an integer")
        }
        return value
    }

    static func optional(_ env: [String: String], _ name: String) throws(LaunchError) -> Int? {
        guard let text = env[name], !text.isEmpty else { return nil }
        return try required(env, name)
    }
}

extension LaunchError {
    /// The text without the "launch environment:" prefix, for wrapping.
    var detail: String {
        switch self {
        case .badEnvironment(let text), .io(let text): return text
        default: return description
        }
    }
}
