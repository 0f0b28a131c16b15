import Foundation

/// The pipe signal handlers write to, so the monitor's loop can `poll` signals with everything else.
/// A constant created once (before any handler is installed); handlers only call `write(2)`.
let signalPipe: (read: Int32, write: Int32) = {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return (-1, -1) }
    for fd in fds {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }
    return (fds[0], fds[1])
}()

/// Turns SIGINT, SIGTERM, SIGHUP and SIGWINCH into bytes on `signalPipe` (self-pipe), so the loop
/// can stop cleanly: restore the terminal, close the trace file.
enum SignalWatcher {
    static func install(_ signals: [Int32]) {
        guard signalPipe.write >= 0 else { return }
        // A parent may have left these blocked (seen under tmux started from a test runner):
        // unblock them, or SIGTERM would never reach the handler.
        var set = sigset_t()
        sigemptyset(&set)
        for sig in signals { sigaddset(&set, sig) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for sig in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                var byte = UInt8(truncatingIfNeeded: sig)
                _ = write(signalPipe.write, &byte, 1)
            }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
    }

    /// Restores the default action (after the loop ends).
    static func uninstall(_ signals: [Int32]) {
        for sig in signals { signal(sig, SIG_DFL) }
    }

    /// Signals received since the last call.
    static func drain() -> [Int32] {
        var out: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let n = read(signalPipe.read, &buffer, buffer.count)
            guard n > 0 else { break }
            out += buffer[0..<n].map { Int32($0) }
        }
        return out
    }
}

/// A key press in the interactive view.
enum Key: Equatable {
    case quit, sort, up, down, toggleDetail, closeDetail
}

/// Turns terminal input bytes into keys (`q`/Ctrl-C quit, `s` sort, arrows or `j`/`k` move, Enter/`d` detail, Esc close).
func parseKeys(_ bytes: [UInt8]) -> [Key] {
    var keys: [Key] = []
    var i = 0
    while i < bytes.count {
        let b = bytes[i]
        if b == 0x1B, i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "[") || bytes[i + 1] == UInt8(ascii: "O") {
            if bytes[i + 2] == UInt8(ascii: "A") { keys.append(.up) }
            if bytes[i + 2] == UInt8(ascii: "B") { keys.append(.down) }
            i += 3
            continue
        }
        switch b {
        case UInt8(ascii: "q"), UInt8(ascii: "Q"), 0x03, 0x04: keys.append(.quit)
        case UInt8(ascii: "s"), UInt8(ascii: "S"): keys.append(.sort)
        case UInt8(ascii: "k"): keys.append(.up)
        case UInt8(ascii: "j"): keys.append(.down)
        case UInt8(ascii: "d"), 0x0D, 0x0A: keys.append(.toggleDetail)
        case 0x1B: keys.append(.closeDetail)
        default: break
        }
        i += 1
    }
    return keys
}

/// The interactive screen: alternate screen, no echo, hidden cursor; drawn by moving the cursor
/// home and overwriting (no clear, so no flicker); everything restored by `restore()` or deinit.
final class TerminalScreen {
    private var saved = termios()
    private var active = false
    /// The modes `CrashReport` restores: one allocation for the process, never freed (a handler may be reading it).
    private nonisolated(unsafe) static let crashCopy: UnsafeMutablePointer<termios> = {
        let p = UnsafeMutablePointer<termios>.allocate(capacity: 1)
        p.initialize(to: termios())
        return p
    }()

    init() throws {
        guard isatty(0) == 1, isatty(1) == 1, tcgetattr(0, &saved) == 0 else {
            throw MonitorError("the interactive view needs a terminal on stdin and stdout; use --once, --json or --prometheus")
        }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        tcsetattr(0, TCSANOW, &raw)
        active = true
        Self.crashCopy.pointee = saved
        CrashReport.savedTerminal = Self.crashCopy
        Self.write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J")
    }

    deinit { restore() }

    /// Leaves the alternate screen, shows the cursor, restores the terminal modes.
    func restore() {
        guard active else { return }
        active = false
        CrashReport.savedTerminal = nil // kept allocated: a handler may be reading it
        Self.write("\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l")
        tcsetattr(0, TCSANOW, &saved)
    }

    /// Columns and rows of the terminal (80×24 when unknown).
    func size() -> (width: Int, height: Int) {
        var ws = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 else { return (80, 24) }
        return (Int(ws.ws_col), Int(ws.ws_row))
    }

    /// Draws the lines from the top-left corner, clearing the rest of each line and of the screen, in one write.
    func draw(_ lines: [String]) {
        let h = size().height
        let shown = lines.prefix(h)
        Self.write("\u{1B}[H" + shown.joined(separator: "\u{1B}[K\r\n") + "\u{1B}[K\u{1B}[J")
    }

    /// Bytes waiting on stdin.
    func readInput() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = read(0, &buffer, buffer.count)
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    static func write(_ s: String) {
        var bytes = Array(s.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if n <= 0 { if errno == EINTR { continue }; return }
            bytes = bytes.dropFirst(n)
        }
    }
}

/// A monitor error with a one-line message.
public struct MonitorError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
