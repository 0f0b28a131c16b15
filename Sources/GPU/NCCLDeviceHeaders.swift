import Foundation

/// The headers NCCL device code is compiled with: where the loaded NCCL's headers are, and the
/// in-memory stand-ins NVRTC needs for them.
///
/// Workaround (NCCL 2.28, NVRTC 13.0): NVRTC has no libc headers, treats unannotated functions as
/// host code, and rejects the zero-length arrays that `nccl::utility::loadConst`'s template
/// instantiates for 8-byte types (nvcc accepts them as an extension). Hence stand-ins for
/// `stdint.h`, `stdbool.h`, `limits.h`, `stdlib.h` (from libcu++), `__host__` defined away,
/// `-default-device`, and non-template `loadConst` overloads (preferred over the template)
/// declared before NCCL's headers. Only the LSA headers are included: the GIN ones do not compile
/// under NVRTC. Drop a stand-in when NCCL's headers compile without it under NVRTC.
public enum NCCLDeviceHeaders {
    /// `gc_nccl_device.h`: include it first in every NCCL device-API kernel source.
    public static let prelude = """
    #pragma once
    #include <cuda_runtime.h>
    #undef __host__
    #define __host__
    #include <cuda/std/cstdint>
    #include <cuda/atomic>
    struct ncclWindow_vidmem;
    struct ncclDevCommWindowTable;
    namespace nccl { namespace utility {
    __device__ __forceinline__ int loadConst(int const* p) { return __ldg(p); }
    __device__ __forceinline__ uint32_t loadConst(uint32_t const* p) { return __ldg(p); }
    __device__ __forceinline__ uint64_t loadConst(uint64_t const* p) { return __ldg(reinterpret_cast<unsigned long long const*>(p)); }
    __device__ __forceinline__ char* loadConst(char* const* p) { return reinterpret_cast<char*>(__ldg(reinterpret_cast<unsigned long long const*>(p))); }
    __device__ __forceinline__ void* loadConst(void* const* p) { return reinterpret_cast<void*>(__ldg(reinterpret_cast<unsigned long long const*>(p))); }
    __device__ __forceinline__ ncclWindow_vidmem* loadConst(ncclWindow_vidmem* const* p) { return reinterpret_cast<ncclWindow_vidmem*>(__ldg(reinterpret_cast<unsigned long long const*>(p))); }
    __device__ __forceinline__ ncclDevCommWindowTable* loadConst(ncclDevCommWindowTable* const* p) { return reinterpret_cast<ncclDevCommWindowTable*>(__ldg(reinterpret_cast<unsigned long long const*>(p))); }
    }}
    #include <nccl_device/coop.h>
    #include <nccl_device/impl/comm__funcs.h>
    #include <nccl_device/impl/core__funcs.h>
    #include <nccl_device/impl/lsa_barrier__funcs.h>
    #include <nccl_device/impl/ptr__funcs.h>

    """

    /// Every in-memory header an NCCL device-API request gets.
    public static let standIns: [InMemoryHeader] = [
        InMemoryHeader(name: "gc_nccl_device.h", source: prelude),
        InMemoryHeader(name: "stdint.h", source: "#pragma once\n#include <cuda/std/cstdint>\n"),
        InMemoryHeader(name: "stdbool.h", source: "#pragma once\n"),
        InMemoryHeader(name: "limits.h", source: "#pragma once\n#include <cuda/std/climits>\n"),
        InMemoryHeader(name: "stdlib.h", source: "#pragma once\n#include <cuda/std/cstddef>\n"),
    ]

    /// The folder holding `nccl.h` and `nccl_device.h` of the NCCL whose library is at
    /// `libraryPath` and reports `versionCode` (22809): GPUCOMM_NCCL_INCLUDE, then `../include`
    /// beside the library (pip `nvidia/nccl`, /opt/nccl), $NCCL_HOME/include, /usr/include,
    /// /usr/local/include. Headers of another version are skipped (layouts differ between releases).
    public static func includeDir(libraryPath: String, versionCode: Int, environment: [String: String]) throws -> String {
        var candidates: [String] = []
        if let d = environment["GPUCOMM_NCCL_INCLUDE"], !d.isEmpty { candidates.append(d) }
        let libDir = (libraryPath as NSString).deletingLastPathComponent
        candidates.append(((libDir as NSString).deletingLastPathComponent as NSString).appendingPathComponent("include"))
        if let h = environment["NCCL_HOME"], !h.isEmpty { candidates.append("\(h)/include") }
        candidates += ["/usr/include", "/usr/local/include"]
        var seen: [String] = []
        for dir in candidates {
            guard FileManager.default.fileExists(atPath: "\(dir)/nccl_device.h"),
                  let text = try? String(contentsOfFile: "\(dir)/nccl.h", encoding: .utf8) else { continue }
            let v = headerVersionCode(text)
            if v == versionCode { return dir }
            seen.append("\(dir) (\(v.map(String.init) ?? "no version"))")
        }
        let found = seen.isEmpty ? "" : "; found other versions: \(seen.joined(separator: ", "))"
        throw NCCLDeviceUnavailable(reason: "NCCL device headers (nccl_device.h, NCCL_VERSION_CODE \(versionCode)) not found beside \(libDir) or in $NCCL_HOME/include, /usr/include, /usr/local/include; set GPUCOMM_NCCL_INCLUDE\(found)")
    }

    /// `#define NCCL_VERSION_CODE 22809` of an nccl.h.
    public static func headerVersionCode(_ text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("#define NCCL_VERSION_CODE") {
            return Int(line.split(separator: " ").last ?? "")
        }
        return nil
    }
}
