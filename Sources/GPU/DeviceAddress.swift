/// An address in GPU memory as the CUDA driver takes it (`CUdeviceptr`, 64 bits): where a
/// `DeviceBuffer` starts, a peer's buffer mapped into this context, or a kernel argument.
///
/// NCCL and NVSHMEM take the same addresses as `void *`: `pointer` and `init(_:)` convert.
public struct DeviceAddress: Hashable, Sendable, KernelArgument, CustomStringConvertible {
    /// The address's bits (`CUdeviceptr` is `unsigned long long`).
    public var bits: UInt64

    public init(bits: UInt64) { self.bits = bits }

    /// The address a `void *` device pointer holds (NULL is address 0).
    public init(_ pointer: UnsafeRawPointer?) { bits = UInt64(UInt(bitPattern: pointer)) }

    /// The address a `void *` device pointer holds (NULL is address 0).
    public init(_ pointer: UnsafeMutableRawPointer?) { bits = UInt64(UInt(bitPattern: pointer)) }

    /// Address 0 (no memory).
    public static let null = DeviceAddress(bits: 0)

    /// The address as a `void *` for NCCL and NVSHMEM calls; nil for address 0.
    public var pointer: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: UInt(bits)) }

    /// The address `bytes` further on.
    public static func + (address: DeviceAddress, bytes: Int) -> DeviceAddress {
        DeviceAddress(bits: address.bits &+ UInt64(bitPattern: Int64(bytes)))
    }

    /// Passed to a kernel as the 64-bit pointer it takes (the same 8 bytes as `UInt64(address)`).
    public var bytes: [UInt8] { withUnsafeBytes(of: bits) { Array($0) } }

    public var description: String { "0x" + String(bits, radix: 16) }
}

extension UInt64 {
    /// A device address as the 64-bit value kernels take for a pointer.
    public init(_ address: DeviceAddress) { self = address.bits }
}
