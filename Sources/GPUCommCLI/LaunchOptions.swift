import ArgumentParser
import Driver
import Launch

/// How ranks are started: one process for all GPUs, `--np N` local processes, or an outside launcher.
struct LaunchOptions: ParsableArguments {
    @Option(name: [.customShort("g"), .customLong("ngpus")], parsing: .unconditional,
            help: "GPUs per process (default: every visible GPU in one process; 1 per rank under a launcher or --np).")
    var gpusPerProcess: Int?

    @Option(name: .long, parsing: .unconditional, help: "Spawn N local ranks (one process each) on this host; no MPI needed.")
    var np: Int?

    @Option(name: .long, help: "Rank 0's host:port for the rendezvous (default: from the launcher's variables or GPUCOMM_RENDEZVOUS).")
    var rendezvous: Typed<EndpointReading>?

    @Option(name: .long, help: "Address rank 0 listens on for the rendezvous (default: GPUCOMM_BIND or 0.0.0.0).")
    var bind: String?

    @Option(name: [.customShort("T"), .customLong("timeout")], parsing: .unconditional,
            help: "Seconds a rank may be missing or silent before every rank gives up (rendezvous and liveness).")
    var timeout: Int = 120

    func validate() throws {
        if let np, np < 1 { throw ValidationError("--np must be at least 1 (got \(np))") }
        if let g = gpusPerProcess, g < 1 { throw ValidationError("-g must be at least 1 (got \(g))") }
        if timeout < 1 { throw ValidationError("-T must be at least 1 second (got \(timeout))") }
        if let e = rendezvous?.problem { throw ValidationError("--rendezvous: \(e)") }
    }

    /// The validated options as the driver takes them.
    var spec: LaunchSpec {
        LaunchSpec(gpusPerProcess: gpusPerProcess, np: np, rendezvous: rendezvous?.value, bind: bind, timeout: timeout)
    }
}

/// `--rendezvous host:port`, read once (`Endpoint(parsing:)`, whose error is the one line).
enum EndpointReading: OptionReading {
    static func read(_ text: String) throws -> Endpoint { try Endpoint(parsing: text) }
}
