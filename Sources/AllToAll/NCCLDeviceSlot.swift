import Collectives
import GPU

/// `nccl-device`: NCCL's device API (LSA) all-to-all (Collectives' `NCCLDeviceAlltoall`, the
/// optimized -D 2 kernel). `--blocks` sets its grid (default: 16 blocks per rank, 32 from 32 MiB per rank); one kernel per
/// all-to-all with LSA barriers before and after the copies, so the data is at every receiver when it ends.
final class NCCLDeviceBackend: AlltoallBackend {
    let kind = BackendKind.ncclDevice
    let impl: NCCLDeviceAlltoall
    let blocks: Int?
    var arguments: (bytes: Int, args: KernelArguments)?
    var send: DeviceBuffer { impl.send }
    var recv: DeviceBuffer { impl.recv }

    init(_ c: BackendContext) throws {
        guard let comm = c.comm else { throw BackendUnavailable(kind: .ncclDevice, reason: "needs an NCCL communicator") }
        do {
            impl = try NCCLDeviceAlltoall(comm: comm, compiler: c.compiler, maxBytesPerRank: c.maxBytesPerRank)
        } catch let e as NCCLDeviceUnavailable {
            throw BackendUnavailable(kind: .ncclDevice, reason: e.reason)
        }
        blocks = c.kernel.blocks > 0 ? min(c.kernel.blocks, impl.maxBlocks) : nil
    }

    func prepare(bytesPerRank: Int) throws {
        arguments = (bytesPerRank, impl.arguments(bytesPerRank: bytesPerRank))
    }

    func enqueue(bytesPerRank: Int, stream: Stream) throws {
        if arguments?.bytes != bytesPerRank { try prepare(bytesPerRank: bytesPerRank) }
        try impl.enqueue(arguments!.args, bytesPerRank: bytesPerRank, stream: stream, kernel: .optimized, blocks: blocks)
    }

    func labels(bytesPerRank: Int) -> [String: String] {
        ["blocks": String(blocks ?? impl.defaultBlocks(bytesPerRank: bytesPerRank)), "kernel": "optimized"]
    }
}

/// The `nccl-device` backend's hook. No separate availability check: the backend's init turns
/// `NCCLDeviceUnavailable` into `BackendUnavailable` with the same reason, and a check of its own
/// would compile NCCL's layout probe a second time.
enum NCCLDeviceSlot {
    static func make(_ c: BackendContext) throws -> AlltoallBackend { try NCCLDeviceBackend(c) }
}

/// A backend that cannot run here; the run lists it with the reason and goes on.
public struct BackendUnavailable: Error, CustomStringConvertible, Sendable {
    public var kind: BackendKind
    public var reason: String
    public var description: String { "\(kind.rawValue): \(reason)" }
}
