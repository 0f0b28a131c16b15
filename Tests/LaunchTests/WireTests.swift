import Testing
@testable import Launch

struct WireTests {
    static let messages: [Message] = [
        .hello(.init(token: "tok", rank: 3, size: 4, host: "h", pid: 77)),
        .ready(peers: [.init(host: "a", pid: 1), .init(host: "b", pid: 2)]),
        .refuse(wrongToken: true, reason: "wrong rendezvous token"),
        .timeout(missing: [2, 3], waitedMilliseconds: 1500),
        .contribute(seq: 9, op: .broadcast, root: 2, bytes: Array(0..<128)),
        .result(seq: 9, parts: [[1, 2], [], [3]]),
        .died(rank: 2, host: "h", pid: 5, detail: "gone"),
        .mismatch(reason: "x"),
        .heartbeat,
        .goodbye,
    ]

    @Test(arguments: messages)
    func roundTrip(message: Message) throws {
        var buffer = FrameBuffer(limit: Message.maxFrame)
        let frame = message.encoded()
        // Arrives in two pieces: nothing until the whole frame is there.
        frame[..<(frame.count - 1)].withUnsafeBytes { buffer.append($0) }
        #expect(try buffer.next() == nil)
        frame[(frame.count - 1)...].withUnsafeBytes { buffer.append($0) }
        #expect(try buffer.next() == message)
        #expect(try buffer.next() == nil)
    }

    @Test func severalFramesInOneRead() throws {
        var buffer = FrameBuffer(limit: Message.maxFrame)
        let all = Self.messages.flatMap { $0.encoded() }
        all.withUnsafeBytes { buffer.append($0) }
        var got: [Message] = []
        while let m = try buffer.next() { got.append(m) }
        #expect(got == Self.messages)
    }

    @Test func oversizedAndMalformedFramesAreErrors() {
        var buffer = FrameBuffer(limit: Message.maxHello)
        [UInt8]([0x7f, 0, 0, 0, 1]).withUnsafeBytes { buffer.append($0) }
        #expect(throws: LaunchError.self) { try buffer.next() }
        var garbage = FrameBuffer(limit: Message.maxHello)
        [UInt8]([0, 0, 0, 3, 99, 1, 2]).withUnsafeBytes { garbage.append($0) }  // unknown type 99
        #expect(throws: LaunchError.self) { try garbage.next() }
        var short = FrameBuffer(limit: Message.maxHello)
        [UInt8]([0, 0, 0, 3, Message.Kind.died.rawValue, 1, 2]).withUnsafeBytes { short.append($0) }  // truncated
        #expect(throws: LaunchError.self) { try short.next() }
    }

    @Test func errorMessagesNameTheRanks() {
        #expect(LaunchError.timeout(missingRanks: [3], waitedSeconds: 2).description
            == "rendezvous timed out after 2.0 s: rank 3 never arrived")
        #expect(LaunchError.timeout(missingRanks: [1, 3], waitedSeconds: 30).description
            == "rendezvous timed out after 30 s: ranks 1, 3 never arrived")
        #expect(LaunchError.timeout(missingRanks: [0], waitedSeconds: 2).description.contains("rank 0 never answered"))
        #expect(LaunchError.rankFailed(rank: 2, host: "h", detail: "pid 9: x").description == "rank 2 on h died: pid 9: x")
        #expect(LaunchError.wrongToken(rank: 1, rendezvous: "h:1").description.contains("wrong rendezvous token"))
    }
}
