import Foundation

/// Byte counts as people write them: `4096`, `256K`, `1M`, `2G`, `1MiB`, `1MB` (all powers of 1024).
public enum ByteSize {
    /// Parses `text`; `field` names the option in the error.
    public static func parse(_ text: String, field: String) throws -> Int64 {
        var t = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where t.hasSuffix(suffix) && t.count > suffix.count {
            t = String(t.dropLast(suffix.count))
            break
        }
        var scale: Int64 = 1
        if let last = t.last, let s = ["K": Int64(1) << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40][String(last)] {
            scale = s
            t = String(t.dropLast())
        }
        guard let v = Int64(t), v >= 0, v <= Int64.max / scale else {
            throw SimulationInputError("\(field) '\(text)' is not a byte count (e.g. 4096, 256K, 1M, 2G)")
        }
        return v * scale
    }
}
