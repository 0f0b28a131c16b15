internal import CGPU

/// A GPU's PCIe link as NVML reports it: the generation and width it runs at now, and the most
/// the device and the system allow. Idle GPUs often drop to a lower generation to save power, so
/// the current generation is only meaningful under load.
public struct PCIeLinkState: Sendable, Equatable {
    public var currentGeneration: Int?
    public var currentWidth: Int?
    /// `nvmlDeviceGetMaxPcieLinkGeneration`: the most this device and system allow.
    public var maxGeneration: Int?
    public var maxWidth: Int?

    public init(currentGeneration: Int? = nil, currentWidth: Int? = nil, maxGeneration: Int? = nil, maxWidth: Int? = nil) {
        self.currentGeneration = currentGeneration; self.currentWidth = currentWidth
        self.maxGeneration = maxGeneration; self.maxWidth = maxWidth
    }
}

/// NVML's PCIe link queries, resolved once per `NVML` (each symbol optional: an old library
/// without one leaves that value nil).
public final class NVMLPCIe: @unchecked Sendable {
    let nvml: NVML
    let currGen: PFN_nvmlDeviceGetPcieLinkValue?
    let currWidth: PFN_nvmlDeviceGetPcieLinkValue?
    let maxGen: PFN_nvmlDeviceGetPcieLinkValue?
    let maxWidth: PFN_nvmlDeviceGetPcieLinkValue?

    public init(nvml: NVML) {
        self.nvml = nvml
        let lib = nvml.library
        currGen = lib.optionalFunction("nvmlDeviceGetCurrPcieLinkGeneration")
        currWidth = lib.optionalFunction("nvmlDeviceGetCurrPcieLinkWidth")
        maxGen = lib.optionalFunction("nvmlDeviceGetMaxPcieLinkGeneration")
        maxWidth = lib.optionalFunction("nvmlDeviceGetMaxPcieLinkWidth")
    }

    /// The link of `device` (`nvmlDeviceGetCurrPcieLinkGeneration`/`Width`, `nvmlDeviceGetMaxPcieLinkGeneration`/`Width`);
    /// a value NVML refuses is nil.
    public func link(_ device: NVMLDevice) -> PCIeLinkState {
        func read(_ f: PFN_nvmlDeviceGetPcieLinkValue?) -> Int? {
            guard let f else { return nil }
            var v: UInt32 = 0
            return f(device.handle, &v) == 0 ? Int(v) : nil
        }
        return PCIeLinkState(currentGeneration: read(currGen), currentWidth: read(currWidth), maxGeneration: read(maxGen), maxWidth: read(maxWidth))
    }

    /// The link of the GPU with CUDA PCI bus id `pciBusId`, or nil when NVML does not list it.
    public func link(pciBusId: String) -> PCIeLinkState? {
        guard let devices = try? nvml.devices() else { return nil }
        let want = normalizePCIBusId(pciBusId)
        guard let d = devices.first(where: { (try? $0.pciBusId()) == want }) else { return nil }
        return link(d)
    }
}
