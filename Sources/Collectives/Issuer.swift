import GPU

/// Issues NCCL calls on one communicator and stream, falling back to grouped send/recv where a
/// collective is missing from an older NCCL (alltoall, gather, scatter before 2.28.3).
struct CommIssuer: NCCLIssuer {
    let comm: Communicator
    let stream: Stream
    var nccl: NCCL { comm.nccl }

    /// `IssueContext` carries nccl.h's numbers: `dtype` is an `NCCLDataType`'s raw value, `op` an `NCCLReduction`'s.
    private func type(_ dtype: Int32) -> NCCLDataType { NCCLDataType(rawValue: dtype)! }

    func allReduce(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32) throws {
        try comm.allReduce(a, b, count: count, type: type(dtype), op: NCCLReduction(rawValue: op), stream: stream)
    }
    func reduce(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32, root: Int) throws {
        try comm.reduce(a, b, count: count, type: type(dtype), op: NCCLReduction(rawValue: op), root: root, stream: stream)
    }
    func broadcast(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int) throws {
        try comm.broadcast(a, b, count: count, type: type(dtype), root: root, stream: stream)
    }
    func allGather(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32) throws {
        try comm.allGather(a, b, count: count, type: type(dtype), stream: stream)
    }
    func reduceScatter(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, op: Int32) throws {
        try comm.reduceScatter(a, b, count: count, type: type(dtype), op: NCCLReduction(rawValue: op), stream: stream)
    }
    func alltoAll(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32) throws {
        if nccl.hasAlltoAll {
            try comm.alltoAll(a, b, count: count, type: type(dtype), stream: stream)
            return
        }
        let bytes = count * NCCLDataType(rawValue: dtype)!.size
        try grouped {
            for p in 0..<comm.size {
                try send(a + p * bytes, count: count, dtype: dtype, peer: p)
                try recv(b + p * bytes, count: count, dtype: dtype, peer: p)
            }
        }
    }
    func gather(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int) throws {
        if nccl.hasGather {
            try comm.gather(a, b, count: count, type: type(dtype), root: root, stream: stream)
            return
        }
        let bytes = count * NCCLDataType(rawValue: dtype)!.size
        try grouped {
            if comm.rank == root { for p in 0..<comm.size { try recv(b + p * bytes, count: count, dtype: dtype, peer: p) } }
            try send(a, count: count, dtype: dtype, peer: root)
        }
    }
    func scatter(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, root: Int) throws {
        if nccl.hasScatter {
            try comm.scatter(a, b, count: count, type: type(dtype), root: root, stream: stream)
            return
        }
        let bytes = count * NCCLDataType(rawValue: dtype)!.size
        try grouped {
            if comm.rank == root { for p in 0..<comm.size { try send(a + p * bytes, count: count, dtype: dtype, peer: p) } }
            try recv(b, count: count, dtype: dtype, peer: root)
        }
    }
    func send(_ a: UnsafeRawPointer, count: Int, dtype: Int32, peer: Int) throws {
        try comm.send(a, count: count, type: type(dtype), peer: peer, stream: stream)
    }
    func recv(_ b: UnsafeMutableRawPointer, count: Int, dtype: Int32, peer: Int) throws {
        try comm.recv(b, count: count, type: type(dtype), peer: peer, stream: stream)
    }
    func copy(_ a: UnsafeRawPointer, _ b: UnsafeMutableRawPointer, bytes: Int) throws {
        try stream.copy(from: a, to: b, bytes: bytes)
    }

    private func grouped(_ body: () throws -> Void) throws {
        try comm.groupStart()
        do { try body() } catch { try? nccl.groupEnd(); throw error }
        try comm.groupEnd()
    }
}
