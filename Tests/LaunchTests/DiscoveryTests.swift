import Testing
@testable import Launch

/// Environment detection for every launcher: pure functions of a dictionary.
struct DiscoveryTests {
    let host = Launch.hostName()

    func detect(_ env: [String: String], override: Endpoint? = nil) throws -> RankInfo? {
        try RankDiscovery.detect(environment: env, rendezvousOverride: override)
    }

    func info(_ rank: Int, _ size: Int, local: Int, localSize: Int?, _ launcher: Launcher, _ host: String, _ port: UInt16,
              token: String?) -> RankInfo {
        RankInfo(rank: rank, worldSize: size, localRank: local, localSize: localSize, launcher: launcher,
                 rendezvous: Endpoint(host: host, port: port), token: token, host: self.host)
    }

    @Test func nothingSetIsNotAJob() throws {
        #expect(try detect([:]) == nil)
        #expect(try detect(["PATH": "/bin", "HOME": "/root"]) == nil)
    }

    @Test func gpucommLocalLauncher() throws {
        let env = ["GPUCOMM_RANK": "2", "GPUCOMM_WORLD_SIZE": "4", "GPUCOMM_LOCAL_RANK": "2", "GPUCOMM_LOCAL_SIZE": "4",
                   "GPUCOMM_RENDEZVOUS": "127.0.0.1:41000", "GPUCOMM_TOKEN": "abc"]
        #expect(try detect(env) == info(2, 4, local: 2, localSize: 4, .local, "127.0.0.1", 41000, token: "abc"))
    }

    @Test func openMPISingleNodeUsesLoopbackAndJobToken() throws {
        let env = ["OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
                   "OMPI_COMM_WORLD_LOCAL_SIZE": "4", "OMPI_MCA_ess_base_jobid": "123456"]
        let port = RankDiscovery.derivedPort(jobID: "123456")
        #expect(try detect(env) == info(1, 4, local: 1, localSize: 4, .mpirun, "127.0.0.1", port, token: "ompi-123456"))
    }

    @Test func openMPI5NamesTheJobInThePMIxNamespace() throws {
        let env = ["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_LOCAL_SIZE": "2",
                   "PMIX_NAMESPACE": "prterun-vm-1234@1"]
        #expect(try detect(env)?.token == "ompi-prterun-vm-1234@1")
        #expect(try detect(env)?.rendezvous?.port == RankDiscovery.derivedPort(jobID: "prterun-vm-1234@1"))
    }

    @Test func openMPIAcrossNodesNeedsRendezvous() throws {
        var env = ["OMPI_COMM_WORLD_RANK": "5", "OMPI_COMM_WORLD_SIZE": "8", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
                   "OMPI_COMM_WORLD_LOCAL_SIZE": "4"]
        #expect { try detect(env) } throws: { "\($0)".contains("GPUCOMM_RENDEZVOUS") && "\($0)".contains("-x") }
        env["GPUCOMM_RENDEZVOUS"] = "node01:29600"
        env["GPUCOMM_TOKEN"] = "secret"
        #expect(try detect(env) == info(5, 8, local: 1, localSize: 4, .mpirun, "node01", 29600, token: "secret"))
    }

    @Test func mpichHydra() throws {
        let env = ["PMI_RANK": "3", "PMI_SIZE": "4", "MPI_LOCALRANKID": "3", "MPI_LOCALNRANKS": "4", "PMI_JOBID": "j7"]
        let port = RankDiscovery.derivedPort(jobID: "j7")
        #expect(try detect(env) == info(3, 4, local: 3, localSize: 4, .mpich, "127.0.0.1", port, token: "pmi-j7"))
    }

    static let slurmEnv = ["SLURM_PROCID": "6", "SLURM_NTASKS": "8", "SLURM_STEP_NUM_TASKS": "8", "SLURM_LOCALID": "2",
                           "SLURM_NTASKS_PER_NODE": "4", "SLURM_JOB_ID": "4242", "SLURM_STEP_ID": "0",
                           "SLURM_STEP_NODELIST": "gpu[07-08]", "SLURM_JOB_NODELIST": "gpu[01-09]"]

    @Test func slurmSrunFirstNodeOfTheStep() throws {
        let port = RankDiscovery.derivedPort(jobID: "4242.0")
        #expect(try detect(Self.slurmEnv) == info(6, 8, local: 2, localSize: 4, .srun, "gpu07", port, token: "slurm-4242.0"))
    }

    @Test func slurmBatchScriptIsNotARank() throws {
        var env = Self.slurmEnv
        env["SLURM_STEP_ID"] = nil
        #expect(try detect(env) == nil)
    }

    @Test func slurmWithPMIThatAgreesIsSrun() throws {
        var env = Self.slurmEnv
        env["PMI_RANK"] = "6"
        env["PMI_SIZE"] = "8"
        #expect(try detect(env)?.launcher == .srun)
        env["PMI_SIZE"] = "16"  // Hydra inside an allocation: the PMI variables win
        env["PMI_RANK"] = "9"
        env["GPUCOMM_RENDEZVOUS"] = "gpu07:1234"
        let found = try detect(env)
        #expect(found?.launcher == .mpich && found?.rank == 9 && found?.worldSize == 16)
    }

    @Test func torchrunUsesThePortAboveTheAgentStore() throws {
        let env = ["RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "10.0.0.1",
                   "MASTER_PORT": "29500", "TORCHELASTIC_RUN_ID": "run9"]
        #expect(try detect(env) == info(1, 2, local: 1, localSize: 2, .torchrun, "10.0.0.1", 29501, token: "torchelastic-run9"))
    }

    @Test func pytorchJobOperatorOnKubernetes() throws {
        let env = ["RANK": "0", "WORLD_SIZE": "4", "MASTER_ADDR": "job-master-0", "MASTER_PORT": "23456",
                   "KUBERNETES_SERVICE_HOST": "10.96.0.1"]
        #expect(try detect(env) == info(0, 4, local: 0, localSize: nil, .kubernetes, "job-master-0", 23456, token: nil))
    }

    @Test func kubernetesIndexedJob() throws {
        let env = ["JOB_COMPLETION_INDEX": "3", "GPUCOMM_WORLD_SIZE": "4", "GPUCOMM_RENDEZVOUS": "bench-0.bench:29500",
                   "GPUCOMM_TOKEN": "t"]
        #expect(try detect(env) == info(3, 4, local: 0, localSize: 1, .kubernetes, "bench-0.bench", 29500, token: "t"))
        // An indexed Job that says nothing about gpucomm is not a gpucomm job.
        #expect(try detect(["JOB_COMPLETION_INDEX": "3"]) == nil)
    }

    @Test func overridesBeatTheLauncher() throws {
        var env = ["RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "a", "MASTER_PORT": "100", "GPUCOMM_RENDEZVOUS": "b:200"]
        #expect(try detect(env)?.rendezvous == Endpoint(host: "b", port: 200))
        #expect(try detect(env, override: Endpoint(host: "c", port: 300))?.rendezvous == Endpoint(host: "c", port: 300))
        env["GPUCOMM_RENDEZVOUS"] = nil
        #expect(try detect(env)?.rendezvous == Endpoint(host: "a", port: 100))
    }

    @Test func worldSizeOneIsNotAJob() throws {
        #expect(try detect(["GPUCOMM_RANK": "0", "GPUCOMM_WORLD_SIZE": "1"]) == nil)
        #expect(try detect(["RANK": "0", "WORLD_SIZE": "1"]) == nil)
    }

    @Test(arguments: [
        (["GPUCOMM_RANK": "4", "GPUCOMM_WORLD_SIZE": "4", "GPUCOMM_RENDEZVOUS": "h:1"], "GPUCOMM_RANK=4"),
        (["GPUCOMM_RANK": "0", "GPUCOMM_WORLD_SIZE": "0", "GPUCOMM_RENDEZVOUS": "h:1"], "GPUCOMM_WORLD_SIZE=0"),
        (["GPUCOMM_RANK": "x", "GPUCOMM_WORLD_SIZE": "2", "GPUCOMM_RENDEZVOUS": "h:1"], "GPUCOMM_RANK='x'"),
        (["GPUCOMM_RANK": "1", "GPUCOMM_WORLD_SIZE": "2"], "GPUCOMM_RENDEZVOUS"),
        (["GPUCOMM_RANK": "1", "GPUCOMM_WORLD_SIZE": "2", "GPUCOMM_RENDEZVOUS": "host"], "GPUCOMM_RENDEZVOUS"),
        (["GPUCOMM_RANK": "1", "GPUCOMM_WORLD_SIZE": "2", "GPUCOMM_RENDEZVOUS": "host:99999"], "bad port"),
        (["GPUCOMM_RANK": "1"], "GPUCOMM_WORLD_SIZE is not set"),
        (["RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "h"], "MASTER_PORT"),
        (["RANK": "1", "WORLD_SIZE": "2"], "MASTER_ADDR"),
        (["OMPI_COMM_WORLD_RANK": "-1", "OMPI_COMM_WORLD_SIZE": "2"], "OMPI_COMM_WORLD_RANK=-1"),
        (["SLURM_PROCID": "0", "SLURM_STEP_ID": "1", "SLURM_NTASKS": "2"], "SLURM_STEP_NODELIST"),
        (["SLURM_PROCID": "0", "SLURM_STEP_ID": "1", "SLURM_NTASKS": "2", "SLURM_JOB_NODELIST": "n[1-"], "unmatched"),
        (["JOB_COMPLETION_INDEX": "0", "GPUCOMM_WORLD_SIZE": "2"], "headless service"),
    ])
    func inconsistentEnvironmentNamesTheVariable(env: [String: String], mentions: String) throws {
        #expect { try detect(env) } throws: { error in
            guard let e = error as? LaunchError, case .badEnvironment = e else { return false }
            return e.description.contains(mentions)
        }
    }

    @Test func endpointParsing() throws {
        #expect(try Endpoint(parsing: "node1:29500") == Endpoint(host: "node1", port: 29500))
        #expect(try Endpoint(parsing: "[fe80::1]:7") == Endpoint(host: "fe80::1", port: 7))
        #expect(Endpoint(host: "fe80::1", port: 7).description == "[fe80::1]:7")
        for bad in ["node1", ":1", "h:0", "h:x", "[::1]"] {
            #expect(throws: LaunchError.self) { try Endpoint(parsing: bad) }
        }
    }

    @Test func bindAddress() {
        #expect(RankDiscovery.bindAddress(environment: [:]) == "0.0.0.0")
        #expect(RankDiscovery.bindAddress(environment: ["GPUCOMM_BIND": "10.1.2.3"]) == "10.1.2.3")
    }

    @Test func derivedPortsStayInRangeAndDiffer() {
        let ports = (0..<200).map { RankDiscovery.derivedPort(jobID: "\($0)") }
        #expect(ports.allSatisfy { (20_000..<50_000).contains($0) })
        #expect(Set(ports).count > 190)
    }
}

struct HostlistTests {
    @Test(arguments: [
        ("node[01-04,7]", ["node01", "node02", "node03", "node04", "node7"]),
        ("a1,b2", ["a1", "b2"]),
        ("gpu-a[1-2]-ib,login", ["gpu-a1-ib", "gpu-a2-ib", "login"]),
        ("rack[1-2]n[8-9]", ["rack1n8", "rack1n9", "rack2n8", "rack2n9"]),
        ("n[098-101]", ["n098", "n099", "n100", "n101"]),
        ("single", ["single"]),
    ])
    func expands(list: String, hosts: [String]) throws {
        #expect(try Hostlist.expand(list) == hosts)
        #expect(try Hostlist.first(list) == hosts.first)
    }

    @Test(arguments: ["n[1-", "n]1[", "n[3-1]", "n[a-b]"])
    func rejects(list: String) {
        #expect(throws: LaunchError.self) { try Hostlist.expand(list) }
    }
}
