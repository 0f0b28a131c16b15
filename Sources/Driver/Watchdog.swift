import Foundation

/// Ends the process when one measurement runs past its deadline: a collective that never returns
/// (a rank stuck, ranks disagreeing on what to run, a wedged GPU) must not hang the job.
///
/// The exit comes from the watchdog's own thread (only `main` exits otherwise) because the main
/// thread is the one stuck inside NCCL, and only the process's end stops it. Results are written
/// line by line, so the file keeps every finished row. The other ranks notice the exit through the
/// rendezvous' liveness and end too, naming this rank.
public final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var deadline: ContinuousClock.Instant?
    private var label = ""
    private let seconds: Int
    private let rank: Int

    public init(seconds: Int, rank: Int) {
        self.seconds = seconds
        self.rank = rank
        let t = Thread { [self] in loop() }
        t.name = "gpucomm-watchdog"
        t.start()
    }

    /// Starts the clock for `what`.
    public func arm(_ what: @autoclosure () -> String) {
        lock.lock()
        label = what()
        deadline = .now + .seconds(seconds)
        lock.unlock()
    }

    public func disarm() {
        lock.lock()
        deadline = nil
        lock.unlock()
    }

    private func loop() {
        while true {
            Thread.sleep(forTimeInterval: 0.25)
            lock.lock()
            let late = deadline.map { ContinuousClock.now > $0 } ?? false
            let what = label
            lock.unlock()
            if late {
                FileHandle.standardError.write(Data("gpucomm: rank \(rank): \(what) did not finish within \(seconds) s (-T); a collective hung (a rank stuck or the ranks disagreeing); ending with status 6\n".utf8))
                fflush(nil)
                _exit(ExitStatus.rankFailed.rawValue)
            }
        }
    }
}
