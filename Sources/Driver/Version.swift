/// Version of this build; the git revision is filled in at run time when the binary sits in a checkout.
public enum GPUCommVersion {
    public static let version = "0.1.0"
    public static var description: String { version }
}
