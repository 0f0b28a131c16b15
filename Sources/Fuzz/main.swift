import Foundation
import Results

// gpucomm-fuzz: mutates every fixture and runs the importers, report, compare and import on each
// mutant (docs/errors.md, "Fuzzing"). Run by .ci/fuzz.sh after `swift test`.
//
//   gpucomm-fuzz --mutants N [--seed S] [--work DIR] [--cli-every K] [--max-seconds T] SEED_DIR...
//
// Exit 0: N mutants, no failure. Exit 1: a failure (listed on stderr, inputs kept under DIR/failures).
// Exit 3: a mutant ran longer than 10 s (a hang; the input is DIR/current.input). A crash ends the
// process by its signal, with the input in DIR/current.input.

var mutants = 20_000, seed: UInt64 = 1, cliEvery = 25, maxSeconds = 280.0
var work = URL(fileURLWithPath: FileManager.default.temporaryDirectory.path).appendingPathComponent("gpucomm-fuzz")
var seedDirs: [String] = []
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--mutants": mutants = Int(args.popFirst() ?? "") ?? mutants
    case "--seed": seed = UInt64(args.popFirst() ?? "") ?? seed
    case "--cli-every": cliEvery = max(1, Int(args.popFirst() ?? "") ?? cliEvery)
    case "--max-seconds": maxSeconds = Double(args.popFirst() ?? "") ?? maxSeconds
    case "--work": work = URL(fileURLWithPath: args.popFirst() ?? work.path)
    default: seedDirs.append(a)
    }
}

let log = FileHandle(fileDescriptor: dup(2), closeOnDealloc: true)
func say(_ s: String) { log.write(Data((s + "\n").utf8)) }

// Seeds: every file under the given folders, and each importable one again as gpucomm JSON Lines.
var seeds: [Campaign.Seed] = []
for dir in seedDirs {
    let base = URL(fileURLWithPath: dir)
    guard let files = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
    for case let url as URL in files {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue,
              let data = FileManager.default.contents(atPath: url.path), data.count < 1 << 20 else { continue }
        let name = String(url.path.dropFirst(base.path.count + 1))
        seeds.append(.init(name: name, bytes: Array(data)))
        if let input = try? ResultInputs.load(text: String(decoding: data, as: UTF8.self), name: name) {
            var jsonl = ""
            for r in input.set.runs { jsonl += ((try? ResultsCodec.encode(.run(r))) ?? "") + "\n" }
            for r in input.set.rows { jsonl += ((try? ResultsCodec.encode(.result(r))) ?? "") + "\n" }
            seeds.append(.init(name: name + ".jsonl", bytes: Array(jsonl.utf8)))
        }
    }
}
seeds.sort { $0.name < $1.name }
guard !seeds.isEmpty else { say("gpucomm-fuzz: no seed files under \(seedDirs)"); exit(2) }
try? FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)

// The commands print tables and progress: send stdout and stderr to /dev/null, keep ours on `log`.
let null = open("/dev/null", O_WRONLY)
dup2(null, 1)
dup2(null, 2)

/// The mutant in progress, for the hang watchdog.
final class Progress: @unchecked Sendable {
    private let lock = NSLock()
    private var index = -1
    private var since = Date()
    func start(_ i: Int) { lock.lock(); index = i; since = Date(); lock.unlock() }
    func stuck(after seconds: Double) -> Int? {
        lock.lock(); defer { lock.unlock() }
        return index >= 0 && Date().timeIntervalSince(since) > seconds ? index : nil
    }
}
let progress = Progress()
let watchdogLog = log, watchdogWork = work
Thread.detachNewThread {
    while true {
        sleep(1)
        if let i = progress.stuck(after: 10) {
            watchdogLog.write(Data("gpucomm-fuzz: HANG: mutant \(i) ran over 10 s; input in \(watchdogWork.path)/current.input\n".utf8))
            _exit(3)
        }
    }
}

say("gpucomm-fuzz: \(seeds.count) seeds, \(mutants) mutants, seed \(seed), work \(work.path)")
let campaign = Campaign(seeds: seeds, seed: seed, work: work, cliEvery: cliEvery, log: log)
let started = Date()
var done = 0
for i in 0..<mutants {
    progress.start(i)
    campaign.step(i)
    done += 1
    if Date().timeIntervalSince(started) > maxSeconds { break }
    if !campaign.failures.isEmpty && campaign.failures.count >= 20 { break }
}
progress.start(-1)
let seconds = Date().timeIntervalSince(started)
let summary = campaign.counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
say("gpucomm-fuzz: \(done) mutants in \(String(format: "%.1f", seconds)) s (\(summary)); \(campaign.failures.count) failures")
for f in campaign.failures { say("gpucomm-fuzz: FAIL: \(f)") }
if !campaign.failures.isEmpty { exit(1) }
if done < mutants {
    say("gpucomm-fuzz: only \(done) of \(mutants) mutants within \(Int(maxSeconds)) s")
    exit(1)
}
exit(0)
