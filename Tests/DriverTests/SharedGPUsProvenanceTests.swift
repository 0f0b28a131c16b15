import Foundation
import Results
import Testing
@testable import Driver

/// The run record says when ranks shared GPUs (GPUCOMM_SHARE_GPUS=1 with more ranks on a host than GPUs).
@Suite struct SharedGPUsProvenanceTests {
    /// gpucomm's own launcher (`--np N`): every rank sees GPUCOMM_LOCAL_SIZE = N.
    static func local(_ n: Int, share: Bool) -> [String: String] {
        var env = ["GPUCOMM_RANK": "0", "GPUCOMM_WORLD_SIZE": "\(n)", "GPUCOMM_LOCAL_RANK": "0", "GPUCOMM_LOCAL_SIZE": "\(n)",
                   "GPUCOMM_RENDEZVOUS": "127.0.0.1:29500"]
        if share { env["GPUCOMM_SHARE_GPUS"] = "1" }
        return env
    }

    @Test func fourRanksOnOneGPUAreShared() {
        #expect(Provenance.sharedGPUs(Self.local(4, share: true), visibleGPUs: 1) == true)
        #expect(Provenance.sharedGPUs(Self.local(2, share: true), visibleGPUs: 1) == true)
    }

    /// Sharing allowed but not needed (as many GPUs as ranks), or not allowed: no field.
    @Test func notSharedWhenEveryRankHasAGPUOrTheVariableIsOff() {
        #expect(Provenance.sharedGPUs(Self.local(4, share: true), visibleGPUs: 4) == nil)
        #expect(Provenance.sharedGPUs(Self.local(4, share: false), visibleGPUs: 1) == nil)
        var off = Self.local(4, share: true)
        off["GPUCOMM_SHARE_GPUS"] = "0"
        #expect(Provenance.sharedGPUs(off, visibleGPUs: 1) == nil)
        // One process for every GPU (no launcher): nothing to share.
        #expect(Provenance.sharedGPUs(["GPUCOMM_SHARE_GPUS": "1"], visibleGPUs: 1) == nil)
    }

    /// Under mpirun the rendezvous may come from --rendezvous, not the environment: still detected.
    @Test func mpirunWithoutRendezvousVariable() {
        let env = ["OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "8", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
                   "OMPI_COMM_WORLD_LOCAL_SIZE": "4", "GPUCOMM_SHARE_GPUS": "1"]
        #expect(Provenance.sharedGPUs(env, visibleGPUs: 2) == true)
        #expect(Provenance.sharedGPUs(env, visibleGPUs: 4) == nil)
    }

    /// The field is written as `shared_gpus` and files without it still read.
    @Test func fieldRoundTripsAndOldLinesRead() throws {
        var run = RunInfo(run: "r", tool: "gpucomm")
        run.sharedGPUs = true
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let text = String(decoding: try enc.encode(run), as: UTF8.self)
        #expect(text.contains("\"shared_gpus\":true"))
        #expect(try JSONDecoder().decode(RunInfo.self, from: Data(text.utf8)).sharedGPUs == true)
        let old = #"{"run":"r","schema":1,"tool":"gpucomm"}"#
        #expect(try JSONDecoder().decode(RunInfo.self, from: Data(old.utf8)).sharedGPUs == nil)
        let plain = String(decoding: try enc.encode(RunInfo(run: "r", tool: "gpucomm")), as: UTF8.self)
        #expect(!plain.contains("shared_gpus"))
    }
}
