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

    @Option(help: "Number of GPUs where the input does not say (NVSHMEM perftest without 'mype:' lines).")
    var ranks: Int?

    @Option(help: "Variant name where the input does not say (plain Jacobi output; default: from the file name).")
    var variant: String?

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one input file") }
        if let format, InputFormat(rawValue: format) == nil {
            throw ValidationError("--format '\(format)' is not one of \(InputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let ranks, ranks < 1 { throw ValidationError("--ranks must be at least 1, got \(ranks)") }
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
            try write(text, to: output, append: !csv)
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        var report = ""
        for (file, input) in inputs {
            report += "\(file): \(input.format.rawValue), \(input.rowsRead) rows, \(input.skipped.count) skipped\n"
            for s in input.skipped { report += "  \(file):\(s.line): skipped: \(s.reason)\n" }
        }
        FileHandle.standardError.write(Data(report.utf8))
    }

    private func write(_ text: String, to path: String, append: Bool) throws {
        if append {
            guard FileManager.default.fileExists(atPath: path) || FileManager.default.createFile(atPath: path, contents: nil),
                  let h = FileHandle(forWritingAtPath: path) else {
                throw Failure(.failure, "\(path): cannot open for appending")
            }
            defer { try? h.close() }
            h.seekToEndOfFile()
            h.write(Data(text.utf8))
        } else {
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw Failure(.failure, "\(path): cannot write: \(error.localizedDescription)")
            }
        }
    }
}
