/// One kernel source as it is compiled: the `.cu` text, and every header it includes that gpucomm
/// supplies from memory (the `.cuh` files under `cuda/` and the generated `gc_constants.cuh`),
/// found by following its `#include "…"` lines. NVRTC gets the headers through
/// `nvrtcCreateProgram`'s headers/includeNames (`CompileRequest.headers` in GPU), so `#include`
/// resolves with no file on disk, and their texts are part of the kernel cache key.
public struct KernelProgram: Sendable {
    /// The cache file's name and the one `gpucomm _compile-kernels` prints, e.g. "jacobi_nvshmem".
    public let name: String
    public let kind: KernelSources.Kind
    /// The `.cu` file's text.
    public let source: String
    /// The in-memory headers the source includes, directly or through another, each once, in the
    /// order they are first included.
    public let headers: [(name: String, source: String)]
    /// Quoted includes that are not ours and are left to NVRTC's include path or the caller's own
    /// in-memory headers (NCCL's "gc_nccl_device.h" from `RuntimeCompiler.ncclDeviceRequest`, NVSHMEM's
    /// internal headers from its include folder).
    public let otherIncludes: [String]

    /// `file`: the `.cu` under `cuda/`; `generated`: headers made at run time (name → text).
    init(name: String, kind: KernelSources.Kind, file: String, generated: [String: String]) {
        self.name = name
        self.kind = kind
        source = KernelSources.text(file)
        var headers: [(name: String, source: String)] = []
        var others: [String] = []
        var seen: Set<String> = []
        func follow(_ text: String) {
            for inc in KernelProgram.quotedIncludes(text) where seen.insert(inc).inserted {
                guard let h = generated[inc] ?? (inc.hasSuffix(".cuh") ? KernelSources.optionalText(inc) : nil) else {
                    others.append(inc)
                    continue
                }
                headers.append((inc, h))
                follow(h)
            }
        }
        follow(source)
        self.headers = headers
        otherIncludes = others
    }

    /// The names in `#include "name"` lines, in order (angle-bracket includes are the toolkit's
    /// and the libraries' own).
    static func quotedIncludes(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: true).compactMap { line in
            var s = line.drop { $0 == " " || $0 == "\t" }
            guard s.first == "#" else { return nil }
            s = s.dropFirst().drop { $0 == " " || $0 == "\t" }
            guard s.hasPrefix("include") else { return nil }
            s = s.dropFirst("include".count).drop { $0 == " " || $0 == "\t" }
            guard s.first == "\"", let end = s.dropFirst().firstIndex(of: "\"") else { return nil }
            return String(s[s.index(after: s.startIndex)..<end])
        }
    }

    /// The parameter names of `extern "C"` kernel `kernel`, in order, as declared in the source or
    /// one of its headers; nil when no `__global__` function of that name is there.
    public func parameters(of kernel: String) -> [String]? {
        for text in [source] + headers.map(\.source) {
            if let p = KernelProgram.parameters(of: kernel, in: text) { return p }
        }
        return nil
    }

    /// Argument slot of `parameter` of `kernel` (the index `KernelArguments.set` takes): the kernel's
    /// declaration is the one list of its arguments, so patched slots are never counted by hand.
    /// Traps when there is no such parameter (a source and its host code out of step: a bug of ours,
    /// which the unit tests catch).
    public func slot(_ parameter: String, of kernel: String) -> Int {
        guard let i = parameters(of: kernel)?.firstIndex(of: parameter) else {
            preconditionFailure("kernel \(kernel) in \(name) has no parameter \(parameter)")
        }
        return i
    }

    static func parameters(of kernel: String, in text: String) -> [String]? {
        var rest = text[...]
        while let r = rest.firstRange(of: kernel + "(") {
            defer { rest = rest[r.upperBound...] }
            // A declaration: an identifier boundary before the name, and __global__ since the last ';' or '}'.
            if r.lowerBound > text.startIndex {
                let before = text[text.index(before: r.lowerBound)]
                if before.isLetter || before.isNumber || before == "_" { continue }
            }
            let head = text[..<r.lowerBound]
            let line = head.lastIndex(of: "\n").map { head.index(after: $0) } ?? head.startIndex
            if head[line...].contains("//") { continue }  // a comment (the launch contract names kernels too)
            let start = head.lastIndex { $0 == ";" || $0 == "}" }.map { head.index(after: $0) } ?? head.startIndex
            guard head[start...].contains("__global__") else { continue }
            var depth = 1
            var end = r.upperBound
            while end < text.endIndex, depth > 0 {
                if text[end] == "(" { depth += 1 } else if text[end] == ")" { depth -= 1 }
                if depth > 0 { end = text.index(after: end) }
            }
            let list = text[r.upperBound..<end]
            if list.allSatisfy({ $0.isWhitespace }) { return [] }
            return list.split(separator: ",").map { p in
                String(p.reversed().drop { $0.isWhitespace }.prefix { $0.isLetter || $0.isNumber || $0 == "_" }.reversed())
            }
        }
        return nil
    }
}
