import AllToAll
import Collectives
import Copy
import Driver
import Jacobi
import MoE
import NVSHMEMBench

/// Every benchmark gpucomm runs, in one list: what `suite` and `selftest` walk and what the docs
/// enumerate. Each entry is its family's own descriptor (see `BenchmarkDescriptor`); this file
/// only lists them, in the order the commands print them.
public enum Benchmarks {
    public static let registry: [any BenchmarkDescriptor] = {
        var all: [any BenchmarkDescriptor] = Collectives.all
        all.append(Collectives.named("alltoallv")!)
        all += BackendKind.allCases
        all += NCCLDeviceAlltoallKernel.allCases
        all += P2POp.allCases
        all += P2PLatency.Op.allCases
        all.append(SignalPingPong())
        all += BarrierLatency.Method.allCases
        all += JacobiVariant.allCases
        all += CopyBenchmark.all
        all += MoEStyle.allCases
        all += MoEKernel.allCases
        return all
    }()

    /// The descriptors of one family, in registry order.
    public static func family(_ f: BenchmarkFamily) -> [any BenchmarkDescriptor] { registry.filter { $0.family == f } }

    /// Every benchmark with its applicability on a job of `shape`.
    public static func plan(for shape: JobShape) -> [(descriptor: any BenchmarkDescriptor, applicability: Applicability)] {
        registry.map { ($0, $0.applicability(shape)) }
    }
}
