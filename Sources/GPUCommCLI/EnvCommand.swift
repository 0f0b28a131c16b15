import Driver
import ArgumentParser
import Foundation
import GPU

struct EnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Show the driver, CUDA, NCCL, NVSHMEM and GPUs found, and how to fix what is missing.",
        discussion: """
        Libraries are searched in this order: GPUCOMM_<NAME>_LIB (a file or folder), CUDA_HOME / \
        NCCL_HOME / NVSHMEM_HOME, system folders, Python environments' nvidia-* packages (VIRTUAL_ENV, \
        CONDA_PREFIX, every python3 on PATH, GPUCOMM_PYTHON_SITE), then the system loader. \
        <NAME> is CUDA, NVRTC, NVJITLINK, NCCL, NVML or NVSHMEM.
        Exits 0 when CUDA, NVRTC and NCCL are usable, 5 otherwise.
        """)

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let inv = Inventory.gather()
        if json {
            let info = Provenance.runInfo(inventory: inv, launcher: "none")
            var obj: [String: Any] = [:]
            obj["libraries"] = inv.libraries.map { l -> [String: Any] in
                var d: [String: Any] = ["name": l.kind.rawValue]
                if let p = l.path { d["path"] = p }
                if let v = l.version { d["version"] = v }
                if let e = l.problem { d["problem"] = e }
                return d
            }
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            obj["run"] = try JSONSerialization.jsonObject(with: enc.encode(info))
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(render(inv), terminator: "")
        }
        let needed: [LibraryKind] = [.cuda, .nvrtc, .nccl]
        if needed.contains(where: { inv.library($0)?.path == nil }) || inv.gpus.isEmpty {
            throw Failure(.unavailable, "not ready for GPU benchmarks: " + (inv.gpus.isEmpty && inv.library(.cuda)?.path != nil
                ? "no CUDA devices visible" : "missing \(needed.filter { inv.library($0)?.path == nil }.map(\.rawValue).joined(separator: ", "))"))
        }
    }

    func render(_ inv: Inventory) -> String {
        var s = "gpucomm \(GPUCommVersion.version)\n\nlibraries\n"
        for l in inv.libraries {
            if let p = l.path {
                s += "  \(l.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))\(l.version.map { "\($0)  " } ?? "")\(p)\n"
            } else {
                s += "  \(l.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))MISSING: \(l.problem ?? "")\n"
            }
        }
        if let d = inv.driverVersion { s += "\ndriver \(d)" + (inv.cudaDriverAPI.map { ", CUDA \($0)" } ?? "") + "\n" }
        s += "\nGPUs (\(inv.gpus.count))\n"
        for g in inv.gpus {
            s += "  \(g.ordinal)  \(g.name)  \(g.pciBusId)  sm_\(g.computeCapability.replacingOccurrences(of: ".", with: ""))  "
            s += "\(g.memoryBytes >> 30) GiB  \(g.multiprocessors) SMs" + (g.nvlinks.map { "  \($0) NVLinks" } ?? "") + "\n"
        }
        if let m = inv.linkMatrix, m.count > 1 {
            s += "\nlinks (as nvidia-smi topo -m)\n      " + m.indices.map { "GPU\($0)".padding(toLength: 7, withPad: " ", startingAt: 0) }.joined() + "\n"
            for (i, row) in m.enumerated() {
                s += "  GPU\(i) " + row.map { $0.padding(toLength: 7, withPad: " ", startingAt: 0) }.joined() + "\n"
            }
        }
        for p in inv.problems { s += "problem: \(p)\n" }
        return s
    }
}
