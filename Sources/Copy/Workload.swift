import Driver
import Foundation
import GPU

/// Memory at one end of a copy.
public enum CopyMemory {
    case device(DeviceBuffer)
    case host(HostBuffer)

    /// The address a kernel or a device-side copy uses; nil for pageable host memory.
    var address: DeviceAddress? {
        switch self {
        case let .device(b): return b.address
        case let .host(h): return h.deviceAddress
        }
    }
}

/// One GPU's share of the copies: its kernels and its streams (created on demand, kept).
public final class CopyDevice {
    public let device: Device
    public let kernels: CopyKernels
    private var pool: [GPU.Stream] = []

    public init(device: Device, compiler: RuntimeCompiler) throws {
        self.device = device
        kernels = try CopyKernels(device: device, compiler: compiler)
    }

    /// The stream a multi-leg operation forks from and joins into.
    private var mainStream: GPU.Stream?
    func main() throws -> GPU.Stream {
        if let m = mainStream { return m }
        let m = try GPU.Stream(device: device)
        mainStream = m
        return m
    }

    /// This device's stream number `k`.
    func stream(_ k: Int) throws -> GPU.Stream {
        while pool.count <= k { pool.append(try GPU.Stream(device: device)) }
        return pool[k]
    }
}

/// One leg as it runs: its memories, the stream it goes on and, for an SM copy, the kernel's arguments.
final class RunningLeg {
    let leg: CopyLeg
    let source: CopyMemory
    let destination: CopyMemory
    let issuer: CopyDevice
    let stream: GPU.Stream
    let join: Event
    let smArguments: KernelArguments?
    let blocks: Int

    init(leg: CopyLeg, source: CopyMemory, destination: CopyMemory, issuer: CopyDevice, stream: GPU.Stream,
         engine: CopyEngine, bytes: Int, blocks: Int) throws {
        self.leg = leg; self.source = source; self.destination = destination; self.issuer = issuer; self.stream = stream
        self.blocks = blocks
        join = try Event(device: stream.device, timing: false)
        if engine == .sm {
            guard let s = source.address, let d = destination.address else { throw CopyWaiver("an SM kernel cannot address pageable memory") }
            smArguments = issuer.kernels.copyArguments(from: s, to: d, bytes: bytes)
        } else {
            smArguments = nil
        }
    }
}

/// A cell's copies at one size as the driver checks and times them: every leg on its own stream,
/// forked from and joined back into one main stream per operation (so one stream carries the
/// operation's start and end for host and events timing alike). Poisoning, filling and checking
/// run on the setup stream (number 0) of the GPU that owns the memory (the issuer's for host memory).
public final class CopyWorkload: Workload {
    let legs: [RunningLeg]
    let devices: [CopyDevice]
    let main: GPU.Stream
    let fork: Event
    let calls: HostCopyCalls
    public let bytes: Int
    private var seed: UInt32

    public var streams: [GPU.Stream] { [main] }

    init(legs: [RunningLeg], devices: [CopyDevice], main: GPU.Stream, calls: HostCopyCalls, bytes: Int, seed: UInt32) throws {
        self.legs = legs; self.devices = devices; self.main = main; self.calls = calls; self.bytes = bytes; self.seed = seed
        fork = try Event(device: main.device, timing: false)
    }

    /// The GPU that prepares and checks memory `m` at the end of leg `l`.
    func owner(_ m: CopyMemory, _ l: RunningLeg) -> CopyDevice {
        if case let .device(b) = m { return devices[b.device.ordinal] }
        return l.issuer
    }

    /// Poisons every destination (bytes 0xFF) and writes the pattern into every source, with a new seed.
    public func fill() throws {
        seed &+= 1
        var used: [CopyDevice] = []
        for l in legs {
            switch l.destination {
            case let .device(b):
                let o = owner(l.destination, l)
                try o.device.makeCurrent()
                try calls.set(b.address, byte: 0xFF, bytes: bytes, on: try o.stream(0))
                used.append(o)
            case let .host(h): memset(h.pointer, 0xFF, bytes)
            }
            let o = owner(l.source, l)
            switch l.source {
            case let .device(b): try o.kernels.fill(b.address, bytes: bytes, seed: seed, stream: try o.stream(0)); used.append(o)
            case let .host(h):
                if let a = h.deviceAddress { try o.kernels.fill(a, bytes: bytes, seed: seed, stream: try o.stream(0)); used.append(o) } else {
                    CopyPattern32.fill(h.pointer, count: bytes / 4, seed: seed)
                }
            }
        }
        for o in used { try o.stream(0).synchronize() }
    }

    public func enqueue() throws {
        if legs.count == 1 && legs[0].stream === main { return try issue(legs[0]) }
        try main.device.makeCurrent()
        try fork.record(on: main)
        for l in legs {
            try l.stream.wait(for: fork)
            try issue(l)
            try l.join.record(on: l.stream)
            try main.wait(for: l.join)
        }
    }

    func issue(_ l: RunningLeg) throws {
        try l.issuer.device.makeCurrent()
        if let args = l.smArguments { return try l.issuer.kernels.copy(args, blocks: l.blocks, stream: l.stream) }
        switch (l.source, l.destination) {
        case let (.host(h), .device(d)): try calls.copy(fromHost: h.pointer, to: d.address, bytes: bytes, on: l.stream)
        case let (.device(s), .host(h)): try calls.copy(from: s.address, toHost: h.pointer, bytes: bytes, on: l.stream)
        case let (.device(s), .device(d)): try l.stream.copy(from: s.address, to: d.address, bytes: bytes)
        case (.host, .host): preconditionFailure("no copy pattern goes host to host")
        }
    }

    /// Wrong 4-byte words over every destination.
    public func countWrong() throws -> Int64 {
        try main.synchronize()
        var wrong: Int64 = 0
        for l in legs {
            if let a = l.destination.address {
                let o = owner(l.destination, l)
                wrong += try o.kernels.countWrong(a, bytes: bytes, seed: seed, stream: try o.stream(0))
            } else if case let .host(h) = l.destination {
                wrong += CopyPattern32.countWrong(h.pointer, count: bytes / 4, seed: seed)
            }
        }
        return wrong
    }
}

/// One pointer chase per operation: a thread on the issuer follows `hops` links of a chain in the
/// memory at the leg's source. The check compares where it ended with the host's prediction.
public final class ChaseWorkload: Workload {
    let issuer: CopyDevice
    let stream: GPU.Stream
    let out: DeviceBuffer
    let arguments: KernelArguments
    let expected: UInt64
    public let hops: Int

    public var streams: [GPU.Stream] { [stream] }

    init(issuer: CopyDevice, stream: GPU.Stream, chain: DeviceAddress, hops: Int, expected: UInt64) throws {
        self.issuer = issuer; self.stream = stream; self.hops = hops; self.expected = expected
        out = try DeviceBuffer(device: issuer.device, bytes: 8)
        arguments = issuer.kernels.chaseArguments(chain: chain, hops: hops, out: out.address)
    }

    public func fill() throws {
        try issuer.device.makeCurrent()
        try out.fill(byte: 0xFF, on: stream)
        try stream.synchronize()
    }

    public func enqueue() throws {
        try issuer.device.makeCurrent()
        try issuer.kernels.chase(arguments, stream: stream)
    }

    public func countWrong() throws -> Int64 {
        try stream.synchronize()
        let b = try out.copyToHost(count: 8)
        let got = b.withUnsafeBytes { $0.load(as: UInt64.self) }
        return got == expected ? 0 : 1
    }
}
