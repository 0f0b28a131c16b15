import Driver
import ArgumentParser
import Foundation
import Results

/// `gpucomm import <files…>`: other tools' output (and gpucomm results) → gpucomm records.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn other tools' output into gpucomm records.",
        discussion: """
        Reads nccl-tests text and -J JSON, NVSHMEM perftest tables and &&&& PERF lines, \
        multi-gpu-programming-models Jacobi output (plain and -csv), the aws-efa-p5 study's CSV \
        files and gpucomm JSON Lines; the format is detected from the content. Writes JSON Lines \
        to stdout, or appends them to --output. One line per input on stderr: \
        '<file>: <format>, N rows, M skipped', then the skipped lines with their reasons. \
        A malformed input is an error naming file:line (exit 2) and nothing is written. \
        An --output that already holds one of the runs being imported (the same input imported \
        before) is refused (exit 2) unless --append is given. \
        docs/importers.md lists what each importer keeps.
        """
    )

    @Argument(help: "Input files (nccl-tests logs, perftest logs, Jacobi output, study CSVs, gpucomm .jsonl).")
    var files: [String]

    @Option(name: .shortAndLong, help: "Append JSON Lines to this results file instead of stdout (with --csv: write the CSV there).")
    var output: String?

    @Flag(help: "Write a flat CSV table (one line per row, header first) instead of JSON Lines.")
    var csv = false

    @Option(help: "Benchmark key where the input does not name it (e.g. all_gather for a study CSV named otherwise).")
    var benchmark: String?

    @Option(help: "Force the input format instead of detecting it: \(InputFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: String?

    @Option(parsing: .unconditional, help: "Number of GPUs where the input does not say (NVSHMEM perftest without 'mype:' lines).")
    var ranks: Int?

    @Flag(help: "Append to --output even when it already holds the same runs (their rows then appear twice).")
    var append = false

    @Option(help: "Variant name where the input does not say (plain Jacobi output; default: from the file name).")
    var variant: String?

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one input file") }
        if let format, InputFormat(rawValue: format) == nil {
            throw ValidationError("--format '\(format)' is not one of \(InputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let ranks { try OptionNumber.within(ranks, 1...(1 << 31), "--ranks") }
        if append && (output == nil || csv) { throw ValidationError("--append goes with --output of JSON Lines (not --csv)") }
        if let output { try OutputPath.checkFile(output, option: "--output") }
    }

    func run() throws {
        let options = ImportOptions(benchmark: benchmark, format: format.flatMap(InputFormat.init(rawValue:)),
                                    ranks: ranks, variant: variant)
        var inputs: [(file: String, input: ImportedInput)] = []
        for file in files {
            do {
                inputs.append((file, try ResultInputs.load(path: file, options: options)))
            } catch let e as ResultsError {
                throw Failure(.usage, e.description)
            }
        }
        if let output, !csv, !append { try refuseDuplicates(inputs.map(\.input), in: output) }
        var text = csv ? ResultsCSV.header + "\n" : ""
        for (_, input) in inputs {
            if csv {
                text += ResultsCSV.lines(input.set)
            } else {
                for r in input.set.runs { text += try ResultsCodec.encode(.run(r)) + "\n" }
                for r in input.set.rows { text += try ResultsCodec.encode(.result(r)) + "\n" }
            }
        }
        if let output {
            if csv { try OutputPath.write(text, to: output) } else { try OutputPath.append(text, to: output) }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        var report = ""
        for (file, input) in inputs {
            report += "\(file): \(input.format.rawValue), \(input.rowsRead) rows, \(input.rowsSkipped) skipped\n"
            for s in input.skipped { report += "  \(file):\(s.line): skipped: \(s.reason)\n" }
        }
        FileHandle.standardError.write(Data(report.utf8))
    }

    /// Importing the same input twice doubles every row silently: refuse when a run id (a hash of
    /// the input's content) is already in `path` or given twice on the command line.
    private func refuseDuplicates(_ inputs: [ImportedInput], in path: String) throws {
        var seen: [String: String] = [:]
        if FileManager.default.fileExists(atPath: path) {
            let existing: ImportedInput
            do { existing = try ResultInputs.load(path: path, options: ImportOptions(format: .gpucommJSONL)) } catch let e as ResultsError {
                throw Failure(.usage, "--output \(path) is not a gpucomm results file (\(e.description)); pass --append to append anyway")
            }
            for r in existing.set.runs { seen[r.run] = path }
        }
        for (file, input) in zip(files, inputs) {
            for r in input.set.runs {
                if let there = seen[r.run] {
                    throw Failure(.usage, there == path
                        ? "\(path) already holds run \(r.run) (the rows of \(file)): importing it again would double them; pass --append to add them anyway"
                        : "\(file) and \(there) hold the same run \(r.run): importing both would double its rows; pass --append to add them anyway")
                }
                seen[r.run] = file
            }
        }
    }
}
