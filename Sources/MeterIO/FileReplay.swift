import Foundation

/// Replays a capture file at a steady byte rate, as the meter would send it (a
/// 1200 Bd TIC line delivers 120 bytes/s). At the end of the file the channel ends;
/// the source then reopens it after its back-off, so a capture plays in a loop.
final class FileReplayChannel: ByteChannel {
    private let bytes: [UInt8]
    private let bytesPerSecond: Int?
    private let started = ContinuousClock.now
    private var offset = 0

    /// - Parameter bytesPerSecond: nil replays as fast as the reader takes it.
    init(path: String, bytesPerSecond: Int?) throws(ByteChannelError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ByteChannelError("cannot read \(path)")
        }
        self.bytes = [UInt8](data)
        self.bytesPerSecond = bytesPerSecond.flatMap { $0 > 0 ? $0 : nil }
    }

    func read(timeoutMilliseconds: Int32) throws(ByteChannelError) -> [UInt8]? {
        guard offset < bytes.count else { return nil }
        var end = min(bytes.count, offset + 4096)
        if let rate = bytesPerSecond {
            let elapsed = started.duration(to: .now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            let due = Int(seconds * Double(rate))
            if due <= offset {
                // Sleep until the next byte is due, but no longer than the caller allows.
                let wait = min(Double(timeoutMilliseconds) / 1000, Double(offset + 1 - due) / Double(rate))
                Thread.sleep(forTimeInterval: max(0.001, wait))
                return []
            }
            end = min(end, due)
        }
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    func close() {}
}
