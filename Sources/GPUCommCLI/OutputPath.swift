import Driver
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Output files and folders named by options: checked before any work, written whole or not at all.
///
/// docs/errors.md: an output that cannot be written is a bad value, exit 2, answered before any
/// input is read or anything simulated; a write that fails later (disk full) is exit 1.
enum OutputPath {
    /// Refuses a file path that cannot be created or replaced: its folder missing or not writable,
    /// or the path an existing folder.
    static func checkFile(_ path: String, option: String) throws {
        var isDir: ObjCBool = false
        let fm = FileManager.default
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { throw ValidationError("\(option) \(path): is a folder, not a file") }
            if access(path, W_OK) != 0 { throw ValidationError("\(option) \(path): cannot write (\(reason(errno)))") }
            return
        }
        let folder = parent(path)
        guard fm.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("\(option) \(path): folder \(folder) does not exist")
        }
        if access(folder, W_OK) != 0 { throw ValidationError("\(option) \(path): cannot create a file in \(folder) (\(reason(errno)))") }
    }

    /// Refuses a folder path that cannot be created or written into.
    static func checkFolder(_ path: String, option: String) throws {
        var isDir: ObjCBool = false
        let fm = FileManager.default
        var p = path.isEmpty ? "." : path
        while !fm.fileExists(atPath: p, isDirectory: &isDir) { p = parent(p) }
        if !isDir.boolValue { throw ValidationError("\(option) \(path): \(p) is a file, not a folder") }
        if access(p, W_OK) != 0 { throw ValidationError("\(option) \(path): cannot write in \(p) (\(reason(errno)))") }
    }

    /// The folder holding `path`: `.` for a bare name, `/` at the top. (Not NSString's
    /// `deletingLastPathComponent`, which traps on a one-character name in swift-corelibs-foundation.)
    static func parent(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.last == "/" { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "." }
        let up = p[..<slash]
        return up.isEmpty ? "/" : String(up)
    }

    /// Writes `text` to `path` through a temporary file beside it and a rename, so a reader never
    /// sees a partial file; a failure is `Failure(.failure, …)` in our words.
    static func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw Failure(.failure, "cannot write \(path): \(describe(error))")
        }
    }

    /// Appends `text` to `path` (created if missing) in one write.
    static func append(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw Failure(.failure, "cannot open \(path) for appending: \(reason(errno))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw Failure(.failure, "cannot append to \(path): \(reason(errno))") }
            done += n
        }
    }

    private static func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, p, n)
        #else
        return Darwin.write(fd, p, n)
        #endif
    }

    /// The system's words for an errno (`No such file or directory`).
    static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// A Foundation file error in the system's words, not `NSCocoaErrorDomain error 512`.
    static func describe(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return reason(Int32(underlying.code))
        }
        if ns.domain == NSPOSIXErrorDomain { return reason(Int32(ns.code)) }
        switch ns.code {
        case NSFileWriteNoPermissionError: return "permission denied"
        case NSFileWriteOutOfSpaceError: return "no space left on the device"
        case NSFileNoSuchFileError, NSFileWriteInvalidFileNameError: return "no such file or folder"
        case NSFileWriteVolumeReadOnlyError: return "read-only file system"
        default: return "the file system refused the write"
        }
    }
}
