import Driver
import ArgumentParser
import Foundation
import Results
import Simulate

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Fit an alpha-beta scaling model to results and predict other sizes and GPU counts.",
        discussion: "Formulas, assumptions and the validation on the reference study: docs/model.md.",
        subcommands: [ModelFitCommand.self, ModelPredictCommand.self, ModelValidateCommand.self]
    )
}

/// Options shared by `fit` and `validate`: inputs, filters, the explicit topology.
struct ModelInputOptions: ParsableArguments {
    @Argument(help: "Results files: gpucomm JSON Lines or anything `gpucomm import` reads.") var inputs: [String] = []
    @Option(parsing: .unconditional, help: "GPUs per NVLink domain (node).") var gpusPerNode: Int = 8
    @Option(parsing: .unconditional, help: "NIC bandwidth per GPU and direction in GB/s, to compare the fit with (optional).") var nicGbps: Double?
    @Option(help: "Only this collective (benchmark key, e.g. alltoall).") var benchmark: String?
    @Option(help: "Only this backend (e.g. nccl).") var backend: String?
    @Flag(help: "Add a congestion term: NIC time per byte grows with log2(nodes).") var congestion = false

    var topology: ModelTopology { ModelTopology(gpusPerNode: gpusPerNode, nicGBpsPerGPU: nicGbps) }

    func validate() throws {
        try OptionNumber.within(gpusPerNode, 1...(1 << 31), "--gpus-per-node")
        if let n = nicGbps { try OptionNumber.finite(n, atLeast: 0, strictly: true, "--nic-gbps") }
    }

    /// Checks the options, then reads and filters the rows; every problem is `Failure(.usage, …)`.
    func rows() throws -> [ResultRow] {
        if inputs.isEmpty { throw Failure(.usage, "no input files (give one or more results files)") }
        var rows: [ResultRow] = []
        for path in inputs {
            do { rows += try ResultInputs.load(path: path).set.rows } catch {
                throw Failure(.usage, "\(error)")
            }
        }
        return rows.filter { r in
            (benchmark.map { $0 == r.benchmark } ?? true) && (backend.map { $0 == r.backend } ?? true)
        }
    }
}

/// `gpucomm model fit`: prints the fitted parameters, or writes them as JSON for `predict`.
struct ModelFitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fit", abstract: "Fit the model per collective, backend and variant.")

    @OptionGroup var options: ModelInputOptions
    @Option(parsing: .unconditional, help: "Fit only rows with at most this many GPUs.") var maxGpus: Int?
    @Option(help: "Write the fitted models (JSON) to this file, for `model predict --model`.") var output: String?
    @Flag(help: "Print JSON instead of the table.") var json = false

    func validate() throws {
        if let maxGpus { try OptionNumber.atLeast(maxGpus, 1, "--max-gpus") }
        if let output { try OutputPath.checkFile(output, option: "--output") }
    }

    func run() throws {
        let rows = try options.rows()
        let models: [FittedModel]
        do { models = try ScalingFit.fitAll(rows: rows, topology: options.topology, maxGPUs: maxGpus, congestion: options.congestion) } catch let e as SimulationInputError {
            throw Failure(.usage, e.message)
        }
        let text = try ModelText.json(models)
        if let output { try OutputPath.write(text, to: output) }
        print(json ? text : ModelText.table(models), terminator: "")
    }
}

/// `gpucomm model predict`: time and bandwidth with a band at given sizes and GPU counts.
struct ModelPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Predict time and bandwidth from a fitted model file.")

    @Option(help: "Fitted models written by `model fit --output`.") var model: String
    @Option(parsing: .unconditional, help: "GPU counts, comma-separated, e.g. 128,256.") var gpus: String
    @Option(parsing: .unconditional, help: "Sizes, comma-separated, e.g. 32M,1G.") var sizes: String
    @Option(help: "Only this collective.") var benchmark: String?
    @Option(help: "Only this backend.") var backend: String?
    @Flag(help: "JSON instead of the table.") var json = false

    func run() throws {
        let gpuCounts = try gpus.split(separator: ",").map { s -> Int in
            guard let n = Int(s.trimmingCharacters(in: .whitespaces)) else { throw Failure(.usage, "--gpus '\(s)' is not a GPU count") }
            guard n >= 1, n <= 1 << 31 else { throw Failure(.usage, "--gpus: each GPU count must be ≥ 1 and ≤ \(1 << 31) (got \(n))") }
            return n
        }
        let sizeList: [Int64]
        do { sizeList = try sizes.split(separator: ",").map { try ByteSize.parse(String($0), field: "--sizes") } } catch let e as SimulationInputError {
            throw Failure(.usage, e.message)
        }
        if sizeList.contains(0) { throw Failure(.usage, "--sizes: each size must be ≥ 1 byte") }
        if let big = sizeList.first(where: { $0 > 1 << 62 }) { throw Failure(.usage, "--sizes: each size must be ≤ 2^62 bytes (got \(big))") }
        if gpuCounts.count * sizeList.count > 1_000_000 {
            throw Failure(.usage, "--gpus × --sizes asks for \(gpuCounts.count * sizeList.count) predictions per model; at most 1000000")
        }
        guard let data = FileManager.default.contents(atPath: model) else { throw Failure(.usage, "cannot read model file \(model)") }
        var models: [FittedModel]
        do { models = try JSONDecoder().decode([FittedModel].self, from: data) } catch {
            throw Failure(.usage, "\(model) is not a model file written by `gpucomm model fit --output`")
        }
        models = models.filter { (benchmark.map($0.benchmark.elementsEqual) ?? true) && (backend.map($0.backend.elementsEqual) ?? true) }
        if models.isEmpty { throw Failure(.usage, "no model in \(model) matches --benchmark/--backend") }
        var out: [ModelText.Predicted] = []
        for m in models {
            for n in gpuCounts { for s in sizeList { if let p = m.predict(sizeBytes: s, ranks: n) { out.append(.init(model: m, prediction: p)) } } }
        }
        print(json ? try ModelText.json(out) : ModelText.table(out), terminator: "")
    }
}

/// `gpucomm model validate`: fit on small GPU counts, predict the larger ones, print the error table.
struct ModelValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Fit on rows up to --max-fit-gpus GPUs, predict the rest, report the error (Markdown).")

    @OptionGroup var options: ModelInputOptions
    @Option(parsing: .unconditional, help: "Largest GPU count the fit may see; rows above it are predicted.") var maxFitGpus: Int = 64
    @Flag(help: "JSON instead of Markdown.") var json = false

    func validate() throws { try OptionNumber.atLeast(maxFitGpus, 1, "--max-fit-gpus") }

    func run() throws {
        let rows = try options.rows()
        let v: ModelValidation
        do { v = try ModelValidation(rows: rows, topology: options.topology, maxFitGPUs: maxFitGpus, congestion: options.congestion) } catch let e as SimulationInputError {
            throw Failure(.usage, e.message)
        }
        if v.entries.isEmpty { throw Failure(.usage, "no rows with more than \(maxFitGpus) GPUs to predict") }
        print(json ? try ModelText.json(v) : v.markdown(), terminator: "")
    }
}
