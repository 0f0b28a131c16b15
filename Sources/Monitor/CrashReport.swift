import Foundation

/// On a fatal signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE): one line naming it, glibc's raw backtrace
/// on stderr (`backtrace_symbols_fd`: one `module(+offset) [address]` per frame, so a fault inside
/// libnvidia-ml is told apart from one in gpucomm even in a stripped binary), the terminal put
/// back, then the default action (core dump where enabled). Installed by `top`, which runs for
/// hours beside jobs: a crash there should say where it happened.
enum CrashReport {
    typealias Backtrace = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int32) -> Int32
    typealias BacktraceSymbolsFD = @convention(c) (UnsafePointer<UnsafeMutableRawPointer?>?, Int32, Int32) -> Void

    /// Resolved once, before any handler runs (`backtrace` is not in Swift's Glibc module).
    static let functions: (Backtrace, BacktraceSymbolsFD)? = {
        guard let b = dlsym(nil, "backtrace"), let s = dlsym(nil, "backtrace_symbols_fd") else { return nil }
        return (unsafeBitCast(b, to: Backtrace.self), unsafeBitCast(s, to: BacktraceSymbolsFD.self))
    }()
    nonisolated(unsafe) static let frames = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 64)
    /// Terminal modes to restore on a crash (set while the live view owns the terminal).
    nonisolated(unsafe) static var savedTerminal: UnsafeMutablePointer<termios>?

    static func install() {
        if let (bt, _) = functions { _ = bt(frames, 64) } // first call loads libgcc_s: not inside the handler
        let altStack = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 16)
        var ss = stack_t(ss_sp: altStack, ss_flags: 0, ss_size: 1 << 16)
        sigaltstack(&ss, nil)
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGFPE] {
            // Keep a handler someone else installed (the Swift runtime's backtracer, where present).
            var current = sigaction()
            if sigaction(sig, nil, &current) == 0, unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) != 0 { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                // Only async-signal-safe work here: static strings, write(2), backtrace, tcsetattr.
                let text: StaticString = sig == SIGSEGV ? "gpucomm top: fatal signal SIGSEGV; backtrace:\n"
                    : sig == SIGBUS ? "gpucomm top: fatal signal SIGBUS; backtrace:\n"
                    : sig == SIGILL ? "gpucomm top: fatal signal SIGILL; backtrace:\n" : "gpucomm top: fatal signal SIGFPE; backtrace:\n"
                CrashReport.write(2, text)
                if let (bt, sym) = CrashReport.functions {
                    let n = bt(CrashReport.frames, 64)
                    sym(CrashReport.frames, n, 2)
                }
                if let t = CrashReport.savedTerminal {
                    CrashReport.write(1, "\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l")
                    tcsetattr(0, TCSANOW, t)
                }
                // SA_RESETHAND restored the default action: returning re-runs the faulting instruction.
            }
            action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND)) | Int32(SA_ONSTACK)
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
    }

    static func write(_ fd: Int32, _ s: StaticString) { _ = Glibc.write(fd, s.utf8Start, s.utf8CodeUnitCount) }
}
