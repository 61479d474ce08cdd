/// Cuts a P1 byte stream into telegrams: from `/` through `!`, up to four hex CRC
/// digits, an optional NUL, and the line end. Fed arbitrary chunks (partial reads,
/// garbage, glued telegrams); keeps no more than `maximumTelegramBytes` buffered.
///
/// It does not check the CRC: that is the parser's job, so a caller can still parse
/// telegrams with a known-bad CRC when asked to.
public struct P1Framer: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// A telegram that grows beyond this without its `!` is thrown away. The
        /// reference asks for at least 8 kB; 16 kB leaves room for 13-month histories
        /// and a full 1024-character text message.
        public var maximumTelegramBytes: Int
        /// Clear bit 7 of every byte: a 7E1 line (DSMR 2.2/3) read by an 8N1 port
        /// delivers the parity bit there.
        public var maskSevenBit: Bool

        public init(maximumTelegramBytes: Int = 16_384, maskSevenBit: Bool = false) {
            self.maximumTelegramBytes = max(64, maximumTelegramBytes)
            self.maskSevenBit = maskSevenBit
        }
    }

    /// What the framer threw away, for the gateway's status topic.
    public struct Statistics: Sendable, Hashable {
        /// Telegrams handed out.
        public var telegrams = 0
        /// Bytes that were not part of any handed-out telegram.
        public var discardedBytes = 0
        /// Started telegrams dropped because a new `/` came before their end
        /// (a cable pulled mid-telegram, a reconnect).
        public var truncatedTelegrams = 0
        /// Started telegrams dropped because they outgrew the buffer.
        public var oversizeTelegrams = 0
        /// Telegrams dropped because the bytes after `!` were not CRC digits and a line end.
        public var malformedEndings = 0
    }

    private enum State {
        case hunting
        case body
        /// After `!`: `digits` CRC digits seen so far, `sawNUL` once the tolerated NUL came.
        case checksum(digits: Int, sawNUL: Bool)
        /// After the CR that ends the `!` line.
        case lineFeed
    }

    public let configuration: Configuration
    public private(set) var statistics = Statistics()
    private var state = State.hunting
    private var buffer: [UInt8] = []

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        buffer.reserveCapacity(2048)
    }

    /// Bytes of a telegram that has started but not ended yet.
    public var pendingByteCount: Int { buffer.count }

    /// The longest ending after a body: `!`, four CRC digits, a NUL some meters send, CR, LF.
    static let longestTrailer = 8

    /// A body longer than this could not end within `maximumTelegramBytes`: the limit
    /// covers the whole telegram, trailer included (the fuzzer found the framer holding
    /// up to 8 bytes more).
    private var bodyLimit: Int { configuration.maximumTelegramBytes - Self.longestTrailer }

    /// Feeds the next chunk of the stream; returns the telegrams it completed, each
    /// exactly as received (after the optional 7-bit mask), ready for passthrough.
    public mutating func append(_ chunk: [UInt8]) -> [P1RawTelegram] {
        chunk.withUnsafeBufferPointer { append(contiguous: $0) }
    }

    public mutating func append(_ chunk: ArraySlice<UInt8>) -> [P1RawTelegram] {
        chunk.withUnsafeBufferPointer { append(contiguous: $0) }
    }

    public mutating func append(_ chunk: some Sequence<UInt8>) -> [P1RawTelegram] {
        append(Array(chunk))
    }

    /// The hot loop: runs of body bytes and of garbage are handled in bulk, only the
    /// bytes around `/` and `!` go through the per-byte state machine.
    public mutating func append(contiguous chunk: UnsafeBufferPointer<UInt8>) -> [P1RawTelegram] {
        var completed: [P1RawTelegram] = []
        let mask: UInt8 = configuration.maskSevenBit ? 0x7F : 0xFF
        var i = 0
        let n = chunk.count
        while i < n {
            switch state {
            case .hunting:
                let from = i
                while i < n, chunk[i] & mask != ASCII.slash { i += 1 }
                statistics.discardedBytes += i - from
                if i < n {
                    start()
                    i += 1
                }
            case .body:
                let from = i
                while i < n {
                    let b = chunk[i] & mask
                    if b == ASCII.slash || b == ASCII.bang { break }
                    i += 1
                }
                if mask == 0xFF {
                    buffer.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[from..<i]))
                } else {
                    for k in from..<i { buffer.append(chunk[k] & mask) }
                }
                if buffer.count > bodyLimit {
                    drop(counting: \.oversizeTelegrams)
                } else if i < n {
                    consume(chunk[i] & mask, into: &completed)
                    i += 1
                }
            case .checksum, .lineFeed:
                consume(chunk[i] & mask, into: &completed)
                i += 1
            }
        }
        return completed
    }

    /// Drops a started telegram, e.g. when the port is closed; counts it as truncated.
    public mutating func reset() {
        if !buffer.isEmpty { drop(counting: \.truncatedTelegrams) }
        state = .hunting
    }

    private mutating func consume(_ byte: UInt8, into completed: inout [P1RawTelegram]) {
        switch state {
        case .hunting:
            if byte == ASCII.slash { start() } else { statistics.discardedBytes += 1 }
        case .body:
            if byte == ASCII.slash {
                drop(counting: \.truncatedTelegrams)
                start()
                return
            }
            buffer.append(byte)
            if byte == ASCII.bang {
                state = .checksum(digits: 0, sawNUL: false)
            } else if buffer.count > bodyLimit {
                drop(counting: \.oversizeTelegrams)
            }
        case .checksum(let digits, let sawNUL):
            if !sawNUL, digits < 4, ASCII.hexValue(byte) != nil {
                buffer.append(byte)
                state = .checksum(digits: digits + 1, sawNUL: false)
            } else if !sawNUL, byte == ASCII.nul {
                buffer.append(byte)
                state = .checksum(digits: digits, sawNUL: true)
            } else if byte == ASCII.cr {
                buffer.append(byte)
                state = .lineFeed
            } else if byte == ASCII.lf {
                // LF without CR: hand it out; its CRC (computed over CRLF) will tell.
                buffer.append(byte)
                emit(into: &completed)
            } else {
                malformedEnding(restartingWith: byte)
            }
        case .lineFeed:
            if byte == ASCII.lf {
                buffer.append(byte)
                emit(into: &completed)
            } else {
                malformedEnding(restartingWith: byte)
            }
        }
    }

    private mutating func start() {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(ASCII.slash)
        state = .body
    }

    private mutating func emit(into completed: inout [P1RawTelegram]) {
        completed.append(P1RawTelegram(bytes: buffer))
        statistics.telegrams += 1
        buffer.removeAll(keepingCapacity: true)
        state = .hunting
    }

    private mutating func drop(counting counter: WritableKeyPath<Statistics, Int>) {
        statistics[keyPath: counter] += 1
        statistics.discardedBytes += buffer.count
        buffer.removeAll(keepingCapacity: true)
        state = .hunting
    }

    private mutating func malformedEnding(restartingWith byte: UInt8) {
        drop(counting: \.malformedEndings)
        if byte == ASCII.slash { start() } else { statistics.discardedBytes += 1 }
    }
}

/// One complete telegram as it came off the line (`/` … `!CRC` CR LF).
public struct P1RawTelegram: Sendable, Hashable {
    public var bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
}
