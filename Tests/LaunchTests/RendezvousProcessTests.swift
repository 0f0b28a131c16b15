import Foundation
import Testing
@testable import Launch

/// The rendezvous with real `gpucomm` processes on loopback. Serialized: timing matters on 2 cores.
@Suite(.serialized)
struct RendezvousProcessTests {
    @Test func fourRanksShareBroadcastAndGather() throws {
        let probes = try Probe.job(size: 4, arguments: ["--timeout", "10"])
        defer { probes.values.forEach { $0.reap() } }
        for (r, p) in probes.sorted(by: { $0.key < $1.key }) {
            #expect(p.wait(seconds: 20), "rank \(r) did not finish")
            #expect(p.status == 0, "rank \(r): \(p.stderr)")
            let out = p.stdout
            #expect(out.contains("rank \(r) of 4 joined (local"))
            #expect(out.contains("rank \(r) broadcast root 0: 128 bytes, as sent"))
            #expect(out.contains("rank \(r) broadcast root 3: 128 bytes, as sent"))
            #expect(out.contains("rank \(r) allgather: rank-0,rank-1,rank-2,rank-3"))
            #expect(out.contains("rank \(r) barrier passed"))
        }
    }

    @Test func aRankThatNeverArrivesIsNamedByAll() throws {
        let start = Date()
        let probes = try Probe.job(size: 4, ranks: [0, 1, 2], arguments: ["--timeout", "2"])
        defer { probes.values.forEach { $0.reap() } }
        for (r, p) in probes {
            #expect(p.wait(seconds: 10), "rank \(r) still running")
            #expect(p.status == 6)
            #expect(p.stderr.contains("rank 3 never arrived"), "rank \(r): \(p.stderr)")
        }
        #expect(Date().timeIntervalSince(start) < 2 + 4, "the ranks took too long to give up")
    }

    @Test func rankZeroThatNeverAnswersIsNamed() throws {
        let probes = try Probe.job(size: 3, ranks: [1, 2], arguments: ["--timeout", "1.5"])
        defer { probes.values.forEach { $0.reap() } }
        for (r, p) in probes {
            #expect(p.wait(seconds: 10), "rank \(r) still running")
            #expect(p.status == 6)
            #expect(p.stderr.contains("rank 0 never answered"), "rank \(r): \(p.stderr)")
        }
    }

    @Test func aWrongTokenIsRefusedAndTheOthersTimeOutNamingIt() throws {
        let start = Date()
        let probes = try Probe.job(size: 4, arguments: ["--timeout", "2"], token: { $0 == 2 ? "other" : "t0k" })
        defer { probes.values.forEach { $0.reap() } }
        #expect(probes[2]!.wait(seconds: 10))
        #expect(Date().timeIntervalSince(start) < 2, "the refused rank should hear at once")
        #expect(probes[2]!.status == 6)
        #expect(probes[2]!.stderr.contains("refused rank 2: wrong rendezvous token"), "\(probes[2]!.stderr)")
        for r in [0, 1, 3] {
            let p = probes[r]!
            #expect(p.wait(seconds: 10))
            #expect(p.status == 6)
            #expect(p.stderr.contains("rank 2 never arrived"), "rank \(r): \(p.stderr)")
        }
        #expect(probes[0]!.stderr.contains("refused rank 2 from"))
    }

    @Test(arguments: [2, 0])
    func killMinus9AfterJoinEndsEveryRankNamingIt(victim: Int) throws {
        let timeout = 3.0
        let probes = try Probe.job(size: 4, arguments: ["--timeout", String(timeout), "--behaviour", "hang",
                                                         "--misbehaving-rank", String(victim)])
        defer { probes.values.forEach { $0.reap() } }
        // The victim stops itself after joining (SIGSTOP); the others wait in a broadcast for it.
        for (r, p) in probes { #expect(p.waitFor("joined", seconds: 10), "rank \(r) did not join: \(p.stderr)") }
        let killedAt = Date()
        kill(probes[victim]!.pid, SIGKILL)
        for (r, p) in probes where r != victim {
            #expect(p.wait(seconds: timeout + 5), "rank \(r) still running")
            #expect(p.status == 6)
            #expect(p.stderr.contains("gpucomm: rank \(victim) on \(Launch.hostName()) died: pid \(probes[victim]!.pid)"),
                    "rank \(r): \(p.stderr)")
        }
        #expect(Date().timeIntervalSince(killedAt) < timeout, "ranks must end within the timeout")
    }

    @Test func aFrozenRankIsNoticedBySilence() throws {
        let timeout = 2.0
        let probes = try Probe.job(size: 3, arguments: ["--timeout", String(timeout), "--behaviour", "hang"])
        defer { probes.values.forEach { $0.reap() } }
        for (r, p) in probes { #expect(p.waitFor("joined", seconds: 10), "rank \(r) did not join") }
        for r in [0, 1] {
            let p = probes[r]!
            #expect(p.wait(seconds: timeout + 5), "rank \(r) still running")
            #expect(p.status == 6)
            #expect(p.stderr.contains("rank 2 on"), "rank \(r): \(p.stderr)")
            #expect(p.stderr.contains("silent for"), "rank \(r): \(p.stderr)")
        }
        #expect(!probes[2]!.wait(seconds: 0.1), "the frozen rank is stopped, not ended")
    }
}

/// gpucomm's local launcher, through the probe's `--np` and directly with /bin/sh children.
@Suite(.serialized)
struct LocalLauncherTests {
    let tag = Probe.newTag()

    func launch(_ arguments: [String], extra: [String: String] = [:]) throws -> Probe {
        try Probe(arguments, environment: ["GPUCOMM_TEST_TAG": tag, "PATH": "/usr/bin:/bin"].merging(extra) { $1 })
    }

    @Test func fourLocalRanksEndToEnd() throws {
        let p = try launch(["--np", "4", "--timeout", "10"])
        defer { p.reap() }
        #expect(p.wait(seconds: 30))
        #expect(p.status == 0, "\(p.stderr)")
        // Rank 0's stdout unchanged, the others' dropped.
        #expect(p.stdout.contains("rank 0 allgather: rank-0,rank-1,rank-2,rank-3\n"))
        #expect(!p.stdout.contains("rank 1"))
        #expect(Probe.leftovers(tag).isEmpty)
    }

    @Test func allStdoutIsPrefixed() throws {
        let p = try launch(["--np", "2", "--timeout", "10"], extra: ["GPUCOMM_ALL_STDOUT": "1"])
        defer { p.reap() }
        #expect(p.wait(seconds: 30))
        #expect(p.status == 0)
        #expect(p.stdout.contains("\n[rank 1] rank 1 allgather: rank-0,rank-1\n") || p.stdout.hasPrefix("[rank 1] "))
        #expect(p.stdout.contains("rank 0 allgather: rank-0,rank-1\n"))
    }

    @Test func aKilledRankEndsTheJobWithStatus6AndNothingLeft() throws {
        let p = try launch(["--np", "4", "--timeout", "3", "--behaviour", "die-after-join"])
        defer { p.reap() }
        #expect(p.wait(seconds: 15))
        #expect(p.status == 6)
        #expect(p.stderr.contains("[rank 0] gpucomm: rank 3 on"), "\(p.stderr)")
        #expect(p.stderr.contains("[rank 1] gpucomm: rank 3 on"))
        #expect(p.stderr.contains("rank 3 (pid"))  // the launcher's own line: killed by signal 9
        #expect(Probe.leftovers(tag).isEmpty)
    }

    @Test func aFrozenRankIsKilledByTheLauncher() throws {
        let p = try launch(["--np", "3", "--timeout", "1.5", "--behaviour", "hang"])
        defer { p.reap() }
        #expect(p.wait(seconds: 20))
        #expect(p.status == 6)
        #expect(p.stderr.contains("SIGKILL"), "\(p.stderr)")
        #expect(Probe.leftovers(tag).isEmpty)
    }

    @Test func sigtermIsForwardedToTheRanks() throws {
        // Rank 2 never comes; ranks 0 and 1 would wait 30 s in the rendezvous.
        let p = try launch(["--np", "3", "--timeout", "30", "--behaviour", "never"])
        defer { p.reap() }
        usleep(700_000)
        let sentAt = Date()
        kill(p.pid, SIGTERM)
        #expect(p.wait(seconds: 10))
        #expect(Date().timeIntervalSince(sentAt) < 5)
        #expect(p.status == 6)
        usleep(100_000)
        #expect(Probe.leftovers(tag).isEmpty)
    }

    func shell(_ ranks: Int, _ script: String, timeout: Duration = .seconds(2)) -> Int32 {
        LocalLauncher.run(ranks: ranks, executable: "/bin/sh", arguments: ["-c", script],
                          environment: ["PATH": "/usr/bin:/bin", "GPUCOMM_TEST_TAG": tag], timeout: timeout)
    }

    @Test func launcherFlagIsRemovedFromTheRanksArguments() {
        #expect(LocalLauncher.arguments(["nccl", "--np", "4", "-b", "8"], removing: "--np") == ["nccl", "-b", "8"])
        #expect(LocalLauncher.arguments(["--np=4", "x"], removing: "--np") == ["x"])
        #expect(LocalLauncher.arguments(["a", "--", "--np", "2"], removing: "--np") == ["a", "--", "--np", "2"])
        #expect(LocalLauncher.arguments(["--npx", "1"], removing: "--np") == ["--npx", "1"])
    }

    @Test func exitStatuses() {
        #expect(shell(3, "exit 0") == 0)
        #expect(shell(3, #"[ "$GPUCOMM_RANK" = 2 ] && exit 5; exit 0"#) == 5)
        #expect(shell(2, #"[ "$GPUCOMM_RANK" = 1 ] && kill -9 $$; exit 0"#) == 6)
        #expect(shell(2, #"[ "$GPUCOMM_WORLD_SIZE" = 2 ] && [ -n "$GPUCOMM_TOKEN" ] && [ "$GPUCOMM_BIND" = 127.0.0.1 ] && "#
                    + #"[ "$GPUCOMM_LOCAL_RANK" = "$GPUCOMM_RANK" ] && exit 0; exit 9"#) == 0)
    }

    @Test func stragglersAreTerminatedAfterTheTimeout() {
        let start = Date()
        let status = shell(3, #"[ "$GPUCOMM_RANK" = 0 ] && exit 3; exec sleep 60"#, timeout: .seconds(1))
        let took = Date().timeIntervalSince(start)
        #expect(status == 3)
        #expect(took >= 1 && took < 5, "took \(took) s")
        #expect(Probe.leftovers(tag).isEmpty)
    }

    @Test func stragglersIgnoringSigtermAreKilled() {
        let start = Date()
        let status = shell(2, #"[ "$GPUCOMM_RANK" = 0 ] && exit 4; trap '' TERM; sleep 60 & wait; sleep 60"#,
                           timeout: .milliseconds(500))
        #expect(status == 4)
        #expect(Date().timeIntervalSince(start) < 6)
        usleep(100_000)
        #expect(Probe.leftovers(tag).isEmpty)
    }
}
