import Foundation

/// nccl-tests' stdout table, column for column, so existing parsers keep working
/// (nccl-tests src/common.cu: `%12li  %12li  %8s  %6s  %6i` then `  %7s  %6.2f  %6.2f  %6s` per side).
public enum NcclTestsTable {
    public static let header = """
    #                                                              out-of-place                       in-place          
    #       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   busbw  #wrong 
    #        (B)    (elements)                               (us)  (GB/s)  (GB/s)             (us)  (GB/s)  (GB/s)         
    """

    /// One side (out-of-place or in-place) of a row; nil prints `n/a` columns (not applicable).
    public struct Side: Sendable {
        public var timeUs: Double
        public var algbw: Double
        public var busbw: Double
        /// Wrong elements; nil when not checked (printed `N/A`, as nccl-tests does with -c 0).
        public var wrong: Int64?
        public init(timeUs: Double, algbw: Double, busbw: Double, wrong: Int64?) {
            self.timeUs = timeUs; self.algbw = algbw; self.busbw = busbw; self.wrong = wrong
        }
    }

    public static func row(size: Int, count: Int, type: String, op: String, root: Int, outOfPlace: Side?, inPlace: Side?) -> String {
        var s = pad(String(size), 12) + "  " + pad(String(count), 12) + "  " + pad(type, 8) + "  " + pad(op, 6) + "  " + pad(String(root), 6)
        for side in [outOfPlace, inPlace] {
            if let x = side {
                s += "  " + pad(time(x.timeUs), 7) + "  " + pad(fixed2(x.algbw), 6) + "  " + pad(fixed2(x.busbw), 6)
                s += "  " + pad(x.wrong.map { String($0) } ?? "N/A", 6)
            } else {
                s += "  " + pad("n/a", 7) + "  " + pad("n/a", 6) + "  " + pad("n/a", 6) + "  " + pad("n/a", 6)
            }
        }
        return s
    }

    /// nccl-tests prints times under 10 ms with two decimals, longer ones with fewer (`%7.2f` / `%7.1f` / `%7.0f`).
    static func time(_ us: Double) -> String {
        if us >= 10_000_000 { return String(format: "%7.0f", us) }
        if us >= 100_000 { return String(format: "%7.1f", us) }
        return String(format: "%7.2f", us)
    }

    static func fixed2(_ x: Double) -> String { String(format: "%6.2f", x) }

    static func pad(_ s: String, _ w: Int) -> String {
        s.count >= w ? s : String(repeating: " ", count: w - s.count) + s
    }
}
