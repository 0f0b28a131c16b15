import Driver
import Foundation
import Testing
@testable import GPUCommCLI

/// `gpucomm nccl-device alltoall`: bad command lines are answered before any GPU work.
@Suite struct NCCLDeviceCommandTests {
    static let cases: [(String, [String])] = [
        ("nccl-device alltoall -D 3", ["-D/--device-api", "'3'"]),
        ("nccl-device alltoall -D 1,x", ["-D/--device-api"]),
        ("nccl-device alltoall --blocks 16,-1", ["--blocks", "0...1024"]),
        ("nccl-device alltoall --blocks 2000", ["--blocks"]),
        ("nccl-device alltoall -b 1G -e 1M", ["-b", "-e"]),
        ("nccl-device alltoall -n 0", ["-n must be"]),
        ("nccl-device alltoall -c 2", ["-c must be 0 or 1"]),
        ("nccl-device alltoall -g 2 --np 2", ["-g must be 1"]),
        ("nccl-device alltoall", ["--np"]),
    ]

    @Test(arguments: cases)
    func usageErrors(_ c: (String, [String])) throws {
        let r = try CLI.run(c.0.split(separator: " ").map(String.init) + ["--results", "{tmp}/r.jsonl"])
        #expect(r.status == ExitStatus.usage.rawValue, "\(r.summary)")
        #expect(r.stderrIsOneLine, "stderr must be one line: \(r.stderr.debugDescription)")
        for w in c.1 { #expect(r.stderr.contains(w), "stderr should name \(w): \(r.stderr.debugDescription)") }
        #expect(r.stdout.isEmpty && r.leftovers.isEmpty)
    }

    @Test func planParsesKernelsAndBlocks() throws {
        let c = try NCCLDeviceAlltoallCommand.parse(["-b", "1M", "-e", "4M", "-D", "1,2", "--blocks", "0,16,64"])
        let p = try c.plan()
        #expect(p.sizes == [1 << 20, 2 << 20, 4 << 20])
        #expect(p.kernels == [.basic, .optimized] && p.blocks == [0, 16, 64])
    }
}
