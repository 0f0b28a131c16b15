import Driver
import GPU

/// gc_moe_cast_fp8 over `tokens` rows of `hidden`: BF16 in, e4m3 and scales out, checked on the host.
final class CastWorkload: Workload {
    let kernels: MoEKernels
    let stream: GPU.Stream
    let tokens: Int, hidden: Int
    let x, q, scales: DeviceBuffer
    let arguments: KernelArguments
    let grid: Int

    init(kernels: MoEKernels, device: Device, stream: GPU.Stream, tokens: Int, hidden: Int) throws {
        self.kernels = kernels; self.stream = stream; self.tokens = tokens; self.hidden = hidden
        x = try DeviceBuffer(device: device, bytes: tokens * hidden * 2)
        q = try DeviceBuffer(device: device, bytes: tokens * hidden)
        scales = try DeviceBuffer(device: device, bytes: tokens * hidden / 32)
        try kernels.fill.launch(grid: 4 * device.multiprocessors, block: 256, stream: stream, args: [UInt64(x.address), Int32(tokens), Int32(hidden), Int32(0)])
        grid = max(1, min(8 * device.multiprocessors, tokens * hidden / 128 / 8))
        arguments = KernelArguments([UInt64(x.address), UInt64(q.address), UInt64(scales.address), UInt64(tokens), Int32(hidden)])
    }

    /// Bytes the cast moves through memory per run: BF16 read, e4m3 and scales written.
    var trafficBytes: Int { tokens * hidden * 2 + tokens * hidden + tokens * hidden / 32 }
    var streams: [GPU.Stream] { [stream] }
    func fill() throws { try q.fill(byte: 0x7F, on: stream); try scales.fill(byte: 0x7F, on: stream) }
    func enqueue() throws { try kernels.castFP8.launch(grid: grid, block: 256, stream: stream, arguments: arguments) }
    func countWrong() throws -> Int64 {
        try stream.synchronize()
        return Int64(MoECheck.cast(q: try q.bytes(tokens * hidden), scales: try scales.bytes(tokens * hidden / 32), rank: 0, tokens: tokens, hidden: hidden))
    }
}

/// The memory ceiling beside the cast: one device-to-device copy (cuMemcpyDtoDAsync) of the
/// cast's BF16 input (`tokens` × `hidden`); checked byte for byte.
final class CopyWorkload: Workload {
    let stream: GPU.Stream
    let source, destination: DeviceBuffer

    init(kernels: MoEKernels, device: Device, stream: GPU.Stream, tokens: Int, hidden: Int) throws {
        self.stream = stream
        source = try DeviceBuffer(device: device, bytes: tokens * hidden * 2)
        destination = try DeviceBuffer(device: device, bytes: tokens * hidden * 2)
        try kernels.fill.launch(grid: 4 * device.multiprocessors, block: 256, stream: stream, args: [UInt64(source.address), Int32(tokens), Int32(hidden), Int32(1)])
    }

    /// Bytes read plus bytes written per copy.
    var trafficBytes: Int { 2 * source.bytes }
    var streams: [GPU.Stream] { [stream] }
    func fill() throws { try destination.fill(byte: 0x7F, on: stream) }
    func enqueue() throws { try stream.copy(from: source.address, to: destination.address, bytes: source.bytes) }
    func countWrong() throws -> Int64 {
        try stream.synchronize()
        return Int64(zip(try source.bytes(source.bytes), try destination.bytes(destination.bytes)).filter { $0 != $1 }.count)
    }
}
