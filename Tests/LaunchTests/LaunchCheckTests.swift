import Foundation
import Testing
@testable import Launch

/// `gpucomm launch-check`: the GPU choice, the verdict, the table, and the command over real processes.
@Suite(.serialized)
struct LaunchCheckTests {
    func report(_ rank: Int, of size: Int = 4, local: Int, localSize: Int? = 2, host: String = "n1",
                gpuKey: String? = nil, problem: String? = nil, intact: Bool = true) -> RankReport {
        RankReport(rank: rank, worldSize: size, localRank: local, localSize: localSize, host: host, pid: 100 + rank,
                   launcher: "srun", rendezvous: "n1:4000", gpu: "cuda:\(local)", gpuKey: gpuKey ?? "\(host)/\(local)",
                   gpuProblem: problem, payloadIntact: intact)
    }

    @Test func gpuFromLocalRankAndVisibleDevices() {
        let env = ["CUDA_VISIBLE_DEVICES": "4,5,6,7"]
        let one = LaunchCheck.gpu(localRank: 1, perProcess: 1, environment: env, host: "h", gpuCount: 8)
        #expect(one.text == "cuda:1 = CUDA_VISIBLE_DEVICES[1] = 5" && one.key == "h/5" && one.problem == nil)
        let two = LaunchCheck.gpu(localRank: 1, perProcess: 2, environment: env, host: "h", gpuCount: nil)
        #expect(two.key == "h/6,7" && two.problem == nil)
        let beyond = LaunchCheck.gpu(localRank: 4, perProcess: 1, environment: env, host: "h", gpuCount: 8)
        #expect(beyond.problem?.contains("needs GPU ordinal 4 but CUDA_VISIBLE_DEVICES='4,5,6,7' lists 4") == true)
        #expect(LaunchCheck.gpu(localRank: 0, perProcess: 1, environment: ["CUDA_VISIBLE_DEVICES": ""], host: "h",
                                gpuCount: 8).problem != nil)
        #expect(LaunchCheck.gpu(localRank: 3, perProcess: 1, environment: [:], host: "h", gpuCount: 2).problem?
            .contains("this host has 2 GPU(s)") == true)
        let noDriver = LaunchCheck.gpu(localRank: 3, perProcess: 1, environment: [:], host: "h", gpuCount: nil)
        #expect(noDriver.problem == nil && noDriver.text.contains("not checked"))
    }

    @Test func reportsSurviveTheWire() {
        let r = report(3, local: 1, localSize: nil, problem: "x", intact: false)
        #expect(RankReport.decode(r.encoded()) == r)
        #expect(RankReport.decode(Array(r.encoded().dropLast())) == nil)
    }

    @Test func aGoodLaunchHasNoProblems() {
        let good = [report(0, local: 0), report(1, local: 1), report(2, local: 0, host: "n2"), report(3, local: 1, host: "n2")]
        #expect(LaunchCheck.problems(good).isEmpty)
    }

    @Test func problemsAreNamed() {
        // Slurm's old bug: node n2 runs one rank but was told 3.
        var uneven = [report(0, local: 0, localSize: 3), report(1, local: 1, localSize: 3), report(2, local: 2, localSize: 3),
                      report(3, local: 0, localSize: 3, host: "n2")]
        #expect(LaunchCheck.problems(uneven) == ["rank 3 on n2: the launcher says 3 local rank(s) but 1 rank(s) run on this host"])
        uneven[3].localSize = 1
        #expect(LaunchCheck.problems(uneven).isEmpty)
        let clash = [report(0, of: 2, local: 0, gpuKey: "n1/1"), report(1, of: 2, local: 1, gpuKey: "n1/1")]
        #expect(LaunchCheck.problems(clash) == ["ranks 0, 1 on n1 would all use GPU 1"])
        let sameLocal = [report(0, of: 2, local: 0), report(1, of: 2, local: 0, gpuKey: "n1/9")]
        #expect(LaunchCheck.problems(sameLocal) == ["ranks 0, 1 on n1 all have local rank 0"])
        let damaged = [report(0, of: 2, local: 0), report(1, of: 2, local: 1, problem: "no GPU", intact: false)]
        #expect(LaunchCheck.problems(damaged) == ["rank 1 on n1: no GPU", "rank 1 on n1: the payload from rank 0 arrived damaged"])
    }

    @Test func tableHasOneAlignedRowPerRank() {
        let text = LaunchCheck.table([report(0, of: 2, local: 0), report(1, of: 2, local: 1, host: "node-long", problem: "p")])
        let lines = text.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("rank  local  host       pid  launcher  rendezvous  gpu"))
        #expect(lines[2].hasPrefix("1     1/2    node-long  101  srun      n1:4000     cuda:1  <- problem"))
    }

    @Test func threeLocalRanksMeetAndRankZeroPrintsTheTable() throws {
        let run = try Run(["launch-check", "--np", "3", "-T", "20"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(run.wait(seconds: 40))
        #expect(run.status == 0, "\(run.stderr)")
        let out = run.stdout
        #expect(out.split(separator: "\n").filter { $0.contains(" local ") && $0.contains("127.0.0.1:") }.count == 3, "\(out)")
        #expect(out.contains("3 ranks on 1 host(s) met at 127.0.0.1:") && out.contains("intact at every rank"))
        #expect(out.hasSuffix("launch-check: ok\n"))
    }

    @Test func twoRanksOnOneGPUExitOne() throws {
        let run = try Run(["launch-check", "--np", "2", "-T", "20"],
                          environment: ["PATH": "/usr/bin:/bin", "CUDA_VISIBLE_DEVICES": "3,3"])
        #expect(run.wait(seconds: 40))
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stdout.contains("problem: ranks 0, 1 on ") && run.stdout.contains("would all use GPU 3"), "\(run.stdout)")
    }

    @Test func aMissingRankIsExitSix() throws {
        let port = try Net.freeLoopbackPort()
        var env = Probe.rankEnvironment(rank: 0, size: 2, port: port, tag: Probe.newTag())
        env["GPUCOMM_LAUNCHER_PID"] = nil
        let run = try Run(["launch-check", "-T", "1"], environment: env)
        #expect(run.wait(seconds: 20))
        #expect(run.status == 6)
        #expect(run.stderr.contains("rank 1 never arrived"), "\(run.stderr)")
    }

    @Test(arguments: [["--payload", "-1"], ["-T", "0"], ["-g", "0"], ["--np", "0"], ["--rendezvous", "nohost"]])
    func badOptionsAreUsageErrors(arguments: [String]) throws {
        let run = try Run(["launch-check"] + arguments, environment: ["PATH": "/usr/bin:/bin"])
        #expect(run.wait(seconds: 20))
        #expect(run.status == 2, "\(arguments): \(run.stderr)")
    }
}
