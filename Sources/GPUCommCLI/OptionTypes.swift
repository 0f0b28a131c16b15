import ArgumentParser
import Measure

/// How an option's text becomes a value, once, when the command line is parsed.
protocol OptionReading {
    associatedtype Value
    /// The value of `text`; throws `UnreadText` naming the part that did not read, or the reader's own error.
    static func read(_ text: String) throws -> Value
}

/// The part of an option's text that did not read: all of it, or a list's first bad item.
struct UnreadText: Error, CustomStringConvertible {
    let text: String
    var description: String { text }
}

/// An option value read once, when the command line is parsed; nothing reads the text again
/// (STYLE: options are typed once and never re-parsed after `validate()`).
///
/// Text that does not read is kept instead of being refused by ArgumentParser, so that the
/// command's `validate()` refuses it in its own words (naming the flag and the allowed values)
/// and in the order of its other checks. The help shows a default as it is written
/// (`(default: 32M)`) and lists no values, as it did when these options were strings.
struct Typed<Reading: OptionReading>: ExpressibleByArgument, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The text as given (or as written for a default).
    let text: String
    private let outcome: Result<Reading.Value, any Error>

    init(argument: String) {
        text = argument
        outcome = Result { try Reading.read(argument) }
    }

    init(stringLiteral value: String) { self.init(argument: value) }

    /// A value built by the program rather than read (e.g. `suite` setting NCCL's sweep).
    init(_ value: Reading.Value, text: String) {
        self.text = text
        outcome = .success(value)
    }

    var description: String { text }

    /// The value, or nil when the text did not read.
    var parsed: Reading.Value? {
        if case .success(let v) = outcome { return v }
        return nil
    }

    /// Why the text did not read, or nil.
    var problem: (any Error)? {
        if case .failure(let e) = outcome { return e }
        return nil
    }

    /// The part that did not read (a list's first bad item, else the whole text), or nil.
    var unread: String? {
        guard let problem else { return nil }
        return (problem as? UnreadText)?.text ?? text
    }

    /// The value. Only after `validate()`, which refuses every text that did not read: reaching
    /// here with one is a broken invariant of this program, not bad input.
    var value: Reading.Value {
        switch outcome {
        case .success(let v): return v
        case .failure: preconditionFailure("option value '\(text)' did not read and validate() let it through")
        }
    }
}

/// A byte size as `ByteSize.parse` reads it: `8`, `64K`, `1M`, `1GB`, `4GiB` (no sign).
enum ByteSizeReading: OptionReading {
    static func read(_ text: String) throws -> Int {
        guard let v = ByteSize.parse(text) else { throw UnreadText(text: text) }
        return v
    }
}

/// A sweep bound (`-b`, `-e`): a byte size, or one with a leading '-', read as a negative number
/// so that the sweep refuses it as too small (`-b -5`: "sizes must be at least 1 byte").
enum SweepBoundReading: OptionReading {
    static func read(_ text: String) throws -> Int {
        if text.hasPrefix("-"), let v = ByteSize.parse(String(text.dropFirst())) { return -v }
        return try ByteSizeReading.read(text)
    }
}

/// One case of a string-valued enum, by its raw value.
enum ChoiceReading<T: RawRepresentable>: OptionReading where T.RawValue == String {
    static func read(_ text: String) throws -> T {
        guard let v = T(rawValue: text) else { throw UnreadText(text: text) }
        return v
    }
}

/// A comma-separated list as `parseList` reads it: items trimmed, none empty, at least one.
/// The first item that does not read is the one named.
enum ListReading<Item: OptionReading>: OptionReading {
    static func read(_ text: String) throws -> [Item.Value] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
        var out: [Item.Value] = []
        for p in parts {
            do { out.append(try Item.read(p)) } catch { throw UnreadText(text: p) }
        }
        return out
    }
}

/// A whole number (for list items; a single number is an `Int` option).
enum IntReading: OptionReading {
    static func read(_ text: String) throws -> Int {
        guard let v = Int(text) else { throw UnreadText(text: text) }
        return v
    }
}

typealias ByteSizeOption = Typed<ByteSizeReading>
typealias SweepBound = Typed<SweepBoundReading>
typealias Choice<T: RawRepresentable> = Typed<ChoiceReading<T>> where T.RawValue == String
typealias ListOption<Item: OptionReading> = Typed<ListReading<Item>>
