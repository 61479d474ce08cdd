/// Cuts a TIC byte stream into frames STX … ETX. Robust to partial reads, streams
/// that start mid-frame, garbage between frames, EOT (the meter stopped mid-frame)
/// and a new STX before ETX (both drop the partial frame, never merge it).
public struct TICFramer: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// TIC is always 7E1: an 8N1 port sees the parity bit as bit 7, so mask it.
        public var maskSevenBit: Bool
        /// A frame larger than this without ETX is dropped (a standard three-phase
        /// producer frame is about 1.5 kB).
        public var maximumFrameBytes: Int

        public init(maskSevenBit: Bool = true, maximumFrameBytes: Int = 8192) {
            self.maskSevenBit = maskSevenBit
            self.maximumFrameBytes = max(64, maximumFrameBytes)
        }
    }

    public struct Statistics: Sendable, Hashable {
        public var frames = 0
        /// Bytes outside any handed-out frame.
        public var discardedBytes = 0
        /// Partial frames dropped by EOT.
        public var interruptedFrames = 0
        /// Partial frames dropped because a new STX came before ETX.
        public var truncatedFrames = 0
        public var oversizeFrames = 0
    }

    static let stx: UInt8 = 0x02
    static let etx: UInt8 = 0x03
    static let eot: UInt8 = 0x04

    public let configuration: Configuration
    public private(set) var statistics = Statistics()
    /// True once an EOT was seen since the last complete frame.
    public private(set) var sawEOT = false
    private var buffer: [UInt8] = []
    private var inFrame = false

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        buffer.reserveCapacity(2048)
    }

    /// Feeds the next chunk; returns the frames it completed (STX … ETX inclusive).
    public mutating func append(_ chunk: [UInt8]) -> [TICRawFrame] {
        chunk.withUnsafeBufferPointer { append(contiguous: $0) }
    }

    public mutating func append(_ chunk: ArraySlice<UInt8>) -> [TICRawFrame] {
        chunk.withUnsafeBufferPointer { append(contiguous: $0) }
    }

    public mutating func append(_ chunk: some Sequence<UInt8>) -> [TICRawFrame] {
        append(Array(chunk))
    }

    public mutating func append(contiguous chunk: UnsafeBufferPointer<UInt8>) -> [TICRawFrame] {
        var frames: [TICRawFrame] = []
        let mask: UInt8 = configuration.maskSevenBit ? 0x7F : 0xFF
        for raw in chunk {
            let byte = raw & mask
            if byte == Self.stx {
                if inFrame { drop(counting: \.truncatedFrames) }
                buffer.append(byte)
                inFrame = true
                continue
            }
            guard inFrame else {
                if byte == Self.eot { sawEOT = true }
                statistics.discardedBytes += 1
                continue
            }
            if byte == Self.eot {
                sawEOT = true
                drop(counting: \.interruptedFrames)
                statistics.discardedBytes += 1
                continue
            }
            buffer.append(byte)
            if byte == Self.etx {
                frames.append(TICRawFrame(bytes: buffer))
                statistics.frames += 1
                sawEOT = false
                buffer.removeAll(keepingCapacity: true)
                inFrame = false
            } else if buffer.count > configuration.maximumFrameBytes {
                drop(counting: \.oversizeFrames)
            }
        }
        return frames
    }

    private mutating func drop(counting counter: WritableKeyPath<Statistics, Int>) {
        statistics[keyPath: counter] += 1
        statistics.discardedBytes += buffer.count
        buffer.removeAll(keepingCapacity: true)
        inFrame = false
    }
}

/// One complete frame as received (after the 7-bit mask): STX … ETX.
public struct TICRawFrame: Sendable, Hashable {
    public var bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
}
