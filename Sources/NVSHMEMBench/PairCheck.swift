import Driver
import Collectives
import GPU

/// The point-to-point benchmarks' data check, one copy for bandwidth and latency: `dst` poisoned,
/// `src` filled with each PE's byte pattern, then the bytes that arrived in `dst` compared with the
/// peer's pattern.
struct PairCheck {
    let session: NVSHMEMSession
    let kernels: DataCheckKernels
    let stream: Stream
    let src: DeviceBuffer
    let dst: DeviceBuffer
    let channel: JobChannel

    static let u8 = NCCLDataType.uint8
    static var mode: Int32 { DataCheckKernels.valueMode(u8, op: nil) }

    /// Poisons `dst`, fills `src[0..<fillBytes)` with this PE's pattern, then waits for the stream
    /// and every PE (no PE moves data before its peer's buffers are ready).
    func prepare(fillBytes: Int, seed: UInt32) throws {
        try dst.fill(byte: 0x7F, on: stream)
        try kernels.fill(src.address, len: fillBytes, type: Self.u8, rank: session.pe, srcOffset: 0, seed: seed, mode: Self.mode, stream: stream)
        try stream.synchronize()
        session.barrier()
    }

    /// After the operations: waits for the stream and every PE, counts wrong bytes in `dst[0..<bytes)`
    /// on the PEs in `receivers` (expected: the pair peer's pattern) and sums over every PE.
    func countWrong(bytes: Int, receivers: [Int], pair: PEPair, seed: UInt32) throws -> Int64 {
        try stream.synchronize()
        session.barrier()
        var mine: Int64 = 0
        if receivers.contains(session.pe), let peer = pair.peer(of: session.pe) {
            mine = try kernels.countWrong(dst.address, segments: [Segment(dstOffset: 0, length: bytes, srcRank: peer, srcOffset: 0)],
                                          type: Self.u8, ranks: session.pes, op: nil, scalar: 0, seed: seed, mode: Self.mode, stream: stream)
        }
        return try channel.sum(mine)
    }
}
