import Foundation
import Testing
@testable import GPU

/// Library discovery with a made-up environment and folders under a fresh temporary directory.
@Suite struct LibrarySearchTests {
    /// A fresh folder, removed when the test ends.
    final class TempDir {
        let path: String
        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("gputests-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        /// Creates a file (and its folders) at `relative`; returns its absolute path.
        @discardableResult
        func file(_ relative: String, contents: String = "", executable: Bool = false) throws -> String {
            let p = "\(path)/\(relative)"
            try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: p, contents: Data(contents.utf8),
                                                   attributes: executable ? [.posixPermissions: 0o755] : nil))
            return p
        }

        @discardableResult func dir(_ relative: String) throws -> String {
            let p = "\(path)/\(relative)"
            try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
            return p
        }
    }

    @Test(arguments: LibraryKind.allCases)
    func overrideFileIsTheOnlyCandidate(_ kind: LibraryKind) throws {
        let t = try TempDir()
        let f = try t.file("custom/\(kind.rawValue).so")
        let s = LibrarySearch(environment: [kind.overrideVariable: f, "CUDA_HOME": t.path, "PATH": ""])
        #expect(s.candidates(for: kind) == [f])
        // A path that does not exist yet is still the one the user asked for.
        let missing = "\(t.path)/nope/lib.so"
        #expect(LibrarySearch(environment: [kind.overrideVariable: missing]).candidates(for: kind) == [missing])
    }

    @Test(arguments: LibraryKind.allCases)
    func overrideFolderGetsEveryFileName(_ kind: LibraryKind) throws {
        let t = try TempDir()
        let d = try t.dir("libs")
        let c = LibrarySearch(environment: [kind.overrideVariable: d]).candidates(for: kind)
        #expect(c == kind.fileNames.map { "\(d)/\($0)" })
        #expect(c.allSatisfy { $0.hasPrefix(d + "/") })
    }

    @Test func overrideVariableNames() {
        #expect(LibraryKind.allCases.map(\.overrideVariable) ==
                ["GPUCOMM_CUDA_LIB", "GPUCOMM_NVRTC_LIB", "GPUCOMM_NVJITLINK_LIB", "GPUCOMM_NCCL_LIB", "GPUCOMM_NVML_LIB", "GPUCOMM_NVSHMEM_LIB"])
        #expect(LibraryKind.nccl.fileNames.first == "libnccl.so.2")
        #expect(LibraryKind.cuda.fileNames.first == "libcuda.so.1")
        #expect(LibraryKind.nvml.fileNames.first == "libnvidia-ml.so.1")
    }

    @Test(arguments: LibraryKind.allCases)
    func emptyOverrideIsIgnored(_ kind: LibraryKind) {
        let c = LibrarySearch(environment: [kind.overrideVariable: "", "PATH": ""]).candidates(for: kind)
        #expect(c.count > kind.fileNames.count)
        // The system loader's own search comes last: bare sonames.
        #expect(Array(c.suffix(kind.fileNames.count)) == kind.fileNames)
    }

    @Test(arguments: [LibraryKind.nvrtc, .nvjitlink])
    func cudaHomeComesBeforeSystemFolders(_ kind: LibraryKind) throws {
        let c = LibrarySearch(environment: ["CUDA_HOME": "/opt/my-cuda", "PATH": ""]).candidates(for: kind)
        let mine = try #require(c.firstIndex(of: "/opt/my-cuda/lib64/\(kind.fileNames[0])"))
        #expect(c.contains("/opt/my-cuda/lib/\(kind.fileNames[0])"))
        let system = try #require(c.firstIndex(of: "/usr/local/cuda/lib64/\(kind.fileNames[0])"))
        #expect(mine < system)
        #expect(mine == 0, "CUDA_HOME is the first place looked (no override set)")
    }

    @Test func ncclHomeAndNvshmemHome() {
        #expect(LibrarySearch(environment: ["NCCL_HOME": "/x/nccl", "PATH": ""]).candidates(for: .nccl).first == "/x/nccl/lib/libnccl.so.2")
        #expect(LibrarySearch(environment: ["NVSHMEM_HOME": "/x/nvshmem", "PATH": ""]).candidates(for: .nvshmem).first
                == "/x/nvshmem/lib/libnvshmem_host.so.3")
    }

    /// A venv whose python3 is on PATH: its site-packages/nvidia/<pkg>/lib is searched.
    @Test func pythonVenvOnPath() throws {
        let t = try TempDir()
        try t.file("venv/bin/python3", contents: "#!/bin/sh\n", executable: true)
        let lib = try t.file("venv/lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2")
        let s = LibrarySearch(environment: ["PATH": "/nonexistent:\(t.path)/venv/bin"])
        #expect(s.pythonNvidiaDirs().contains("\(t.path)/venv/lib/python3.12/site-packages/nvidia"))
        let c = s.candidates(for: .nccl)
        #expect(c.contains(lib))
        #expect(c.firstIndex(of: lib)! < c.firstIndex(of: "libnccl.so.2")!, "before the system loader")
        // Not a python on PATH (not executable): not searched.
        let t2 = try TempDir()
        try t2.file("venv/bin/python3", executable: false)
        try t2.file("venv/lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2")
        #expect(!LibrarySearch(environment: ["PATH": "\(t2.path)/venv/bin"]).candidates(for: .nccl).contains { $0.hasPrefix(t2.path) })
    }

    @Test func pythonVenvSubfoldersPerLibrary() throws {
        let t = try TempDir()
        try t.dir("env/lib/python3.11/site-packages/nvidia")
        let s = LibrarySearch(environment: ["VIRTUAL_ENV": "\(t.path)/env", "PATH": ""])
        let site = "\(t.path)/env/lib/python3.11/site-packages/nvidia"
        #expect(s.candidates(for: .nvrtc).contains("\(site)/cu13/lib/libnvrtc.so.13"))
        #expect(s.candidates(for: .nvrtc).contains("\(site)/cuda_nvrtc/lib/libnvrtc.so.12"))
        #expect(s.candidates(for: .nvjitlink).contains("\(site)/nvjitlink/lib/libnvJitLink.so.13"))
        #expect(s.candidates(for: .nvshmem).contains("\(site)/nvshmem/lib/libnvshmem_host.so.3"))
        #expect(!s.candidates(for: .cuda).contains { $0.hasPrefix(site) }, "the driver never comes from pip")
        let conda = LibrarySearch(environment: ["CONDA_PREFIX": "\(t.path)/env", "PATH": ""])
        #expect(conda.pythonNvidiaDirs().contains(site))
    }

    /// A PATH folder with "/bin" inside its name (not only at its end) loses it from the prefix.
    @Test func venvUnderAFolderNamedBin() throws {
        let t = try TempDir()
        try t.file("bin/venv/bin/python3", contents: "#!/bin/sh\n", executable: true)
        let lib = try t.file("bin/venv/lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2")
        #expect(LibrarySearch(environment: ["PATH": "\(t.path)/bin/venv/bin"]).candidates(for: .nccl).contains(lib))
    }

    @Test func pythonSiteOverride() throws {
        let t = try TempDir()
        let lib = try t.file("site/nvidia/nccl/lib/libnccl.so.2")
        try t.dir("venv/lib/python3.12/site-packages/nvidia")
        let s = LibrarySearch(environment: ["GPUCOMM_PYTHON_SITE": "\(t.path)/site", "VIRTUAL_ENV": "\(t.path)/venv", "PATH": ""])
        #expect(s.pythonNvidiaDirs() == ["\(t.path)/site/nvidia"], "GPUCOMM_PYTHON_SITE replaces the other environments")
        #expect(s.candidates(for: .nccl).contains(lib))
        #expect(LibrarySearch(environment: ["GPUCOMM_PYTHON_SITE": "\(t.path)/none", "PATH": ""]).pythonNvidiaDirs().isEmpty)
    }

    @Test func loadOfMissingOverrideSaysWhatItTried() throws {
        let t = try TempDir()
        let missing = "\(t.path)/libnccl.so.2"
        let e = try #require(throws: LibraryNotFound.self) {
            try LibrarySearch(environment: ["GPUCOMM_NCCL_LIB": missing, "PATH": ""]).load(.nccl)
        }
        #expect(e.searched == ["\(missing) (GPUCOMM_NCCL_LIB; no such file)"])
        #expect(e.library == "libnccl.so.2")
        #expect(e.hint == LibraryKind.nccl.hint && e.hint.contains("GPUCOMM_NCCL_LIB") && e.hint.contains("pip install"))
        #expect(e.description.contains("looked in: \(missing)") && e.description.hasSuffix(e.hint))
        #expect(!e.description.contains("\n"), "one line")
    }

    @Test func loadOfANonLibraryCarriesTheLoaderError() throws {
        let t = try TempDir()
        let bogus = try t.file("libcuda.so.1", contents: "not an ELF file")
        let e = try #require(throws: LibraryNotFound.self) {
            try LibrarySearch(environment: ["GPUCOMM_CUDA_LIB": t.path]).load(.cuda)
        }
        #expect(e.searched.first == bogus)
        #expect(e.searched.contains("\(t.path)/libcuda.so (GPUCOMM_CUDA_LIB; no such file)"))
        let last = try #require(e.lastError)
        #expect(last.contains(bogus), "dlopen's own words name the file: \(last)")
        #expect(e.description.contains("last dlopen error"))
        #expect(e.hint.contains("GPUCOMM_CUDA_LIB"))
    }

    /// The message should list the folders it looked in (STYLE: "lists where it looked"), so a
    /// wrong CUDA_HOME shows up in it; absolute candidates that do not exist are dropped silently.
    @Test func missingLibraryListsTheFoldersLookedIn() throws {
        let t = try TempDir()
        let s = LibrarySearch(environment: ["CUDA_HOME": "\(t.path)/cuda", "PATH": "", "GPUCOMM_PYTHON_SITE": "\(t.path)/none"])
        let e = try #require(throws: LibraryNotFound.self) { try s.load(.nvrtc) }
        #expect(e.description.contains("\(t.path)/cuda/lib64"), "\(e.description)")
    }

    @Test func noOverrideStillListsAndHints() throws {
        // On a machine without NVSHMEM the loader finds nothing; the message names the folders tried.
        let s = LibrarySearch(environment: ["NVSHMEM_HOME": "/nonexistent-nvshmem", "PATH": ""])
        if let e = #expect(throws: LibraryNotFound.self, performing: { try s.load(.nvshmem) }) {
            #expect(e.searched.contains("libnvshmem_host.so.3"), "the bare soname goes to the system loader")
            #expect(e.hint.contains("NVSHMEM_HOME"))
            #expect(!e.searched.contains { $0.hasPrefix("/nonexistent-nvshmem") }, "missing absolute paths are not 'tried'")
        }
    }
}
