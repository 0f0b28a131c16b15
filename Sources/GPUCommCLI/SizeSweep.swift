import ArgumentParser
import Measure

/// The sizes of a `-b/-e/-f` sweep, or one line naming the flag that is wrong (for `validate()`).
func sweepSizes(minBytes: String, maxBytes: String, factor: Int) throws -> [Int] {
    guard let lo = ByteSize.parse(minBytes) else { throw ValidationError("-b '\(minBytes)' is not a size (examples: 8, 64K, 1M, 1G)") }
    guard let hi = ByteSize.parse(maxBytes) else { throw ValidationError("-e '\(maxBytes)' is not a size (examples: 8, 64K, 1M, 1G)") }
    do { return try Sweep(minBytes: lo, maxBytes: hi, factor: factor).sizes } catch { throw ValidationError("\(error)") }
}
