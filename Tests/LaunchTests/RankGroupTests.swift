import Foundation
import Testing
@testable import Launch

/// RankGroup in one process, one thread per rank, errors thrown instead of exiting.
struct RankGroupTests {
    func infos(_ size: Int, port: UInt16) -> [RankInfo] {
        (0..<size).map {
            RankInfo(rank: $0, worldSize: size, localRank: $0, localSize: size, launcher: .local,
                     rendezvous: Endpoint(host: "127.0.0.1", port: port), token: "k", host: "h\($0)")
        }
    }

    func join(_ info: RankInfo, timeout: Duration = .seconds(5)) throws(LaunchError) -> RankGroup {
        try RankGroup.join(info, bind: "127.0.0.1", timeout: timeout, abortsProcess: false)
    }

    @Test func collectivesInThreads() throws {
        let ranks = infos(3, port: try Net.freeLoopbackPort())
        let outcomes = onThreads(3) { r -> Result<[String], LaunchError> in
            Result { () throws(LaunchError) -> [String] in
                let g = try join(ranks[r])
                defer { g.close() }
                let a = try g.broadcast(r == 0 ? [1, 2, 3] : nil)
                let b = try g.broadcast(r == 2 ? [9] : [7, 7], root: 2)
                let all = try g.allGather([UInt8(r), UInt8(r)])
                try g.barrier()
                return ["\(a)", "\(b)", "\(all)", g.hosts.joined(separator: ",")]
            }
        }
        for outcome in outcomes {
            #expect(try outcome.get() == ["[1, 2, 3]", "[9]", "[[0, 0], [1, 1], [2, 2]]", "h0,h1,h2"])
        }
    }

    @Test func largePayloadsCrossManyReads() throws {
        let ranks = infos(3, port: try Net.freeLoopbackPort())
        let mib = 1 << 20
        let outcomes = onThreads(3) { r -> Result<Bool, LaunchError> in
            Result { () throws(LaunchError) -> Bool in
                let g = try join(ranks[r])
                defer { g.close() }
                let mine = (0..<mib).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ r) }
                let all = try g.allGather(mine)
                return all.count == 3 && (0..<3).allSatisfy { q in
                    all[q] == (0..<mib).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ q) }
                }
            }
        }
        for outcome in outcomes { #expect(try outcome.get()) }
    }

    @Test func mismatchedCollectivesFailEveryRank() throws {
        let ranks = infos(3, port: try Net.freeLoopbackPort())
        let outcomes = onThreads(3) { r -> String in
            do {
                let g = try join(ranks[r])
                defer { g.close() }
                if r == 1 { try g.barrier() } else { _ = try g.allGather([1]) }
                return "no error"
            } catch { return "\(error)" }
        }
        for text in outcomes { #expect(text.contains("rank 1 called barrier while rank 0 called allGather"), "\(text)") }
    }

    @Test func closingBeforeACollectiveIsNamed() throws {
        let ranks = infos(2, port: try Net.freeLoopbackPort())
        let outcomes = onThreads(2) { r -> String in
            do {
                let g = try join(ranks[r])
                if r == 1 { g.close(); return "closed" }
                defer { g.close() }
                try g.barrier()
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(outcomes[0] == "rank 1 on h1 died: it called close() before this barrier")
    }

    @Test func worldOfOneNeedsNoNetwork() throws {
        let info = RankInfo(rank: 0, worldSize: 1, localRank: 0, launcher: .single, rendezvous: nil, token: nil, host: "h")
        let g = try join(info)
        #expect(try g.broadcast([5]) == [5])
        #expect(try g.allGather([6]) == [[6]])
        try g.barrier()
        g.close()
    }

    @Test func duplicateAndWrongSizeAreRefused() throws {
        let port = try Net.freeLoopbackPort()
        let ranks = infos(3, port: port)
        var wrongSize = ranks[2]
        wrongSize.worldSize = 4
        let infos = [ranks[0], ranks[1], ranks[1], wrongSize]
        let outcomes = onThreads(4) { i -> String in
            let info = infos[i]
            if i > 1 { usleep(200_000) }  // the first rank 1 gets in first
            do {
                let g = try join(info, timeout: .seconds(2))
                g.close()
                return "joined"
            } catch { return "\(error)" }
        }
        #expect(outcomes[2].contains("rank 1 already joined"), "\(outcomes[2])")
        #expect(outcomes[3].contains("world size is 4; rank 0 says 3"), "\(outcomes[3])")
        #expect(outcomes[0].contains("rank 2 never arrived"), "\(outcomes[0])")
    }
}
