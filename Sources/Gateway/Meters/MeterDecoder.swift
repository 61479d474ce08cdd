import Foundation
import P1
import PhasorCore
import TIC

/// What one complete telegram or frame turned into.
struct DecodedFrame: Sendable {
    enum Outcome: Sendable {
        /// Publish it. `period` is the meter's nominal telegram interval, learnt from it.
        case reading(Reading, period: Duration)
        /// Dropped whole, never published.
        case rejected(Rejection, reason: String)
    }
    /// The bytes as received (for the raw topic and the split).
    var raw: [UInt8]
    var outcome: Outcome
    /// TIC groups dropped for a bad checksum inside an otherwise published frame.
    var droppedGroups = 0
}

enum Rejection: Sendable, Hashable { case badCRC, badChecksum, other }

/// Cuts a byte stream into frames and parses them: framer and parser of one
/// protocol behind one face, so the service does not care which meter it reads.
protocol MeterDecoder: Sendable {
    /// The interval to assume before the first valid telegram says otherwise.
    var defaultPeriod: Duration { get }
    /// Partial telegrams the framer dropped (cable pulled, oversize, bad ending).
    var framingErrors: Int { get }
    mutating func feed(_ bytes: [UInt8], at now: Date) -> [DecodedFrame]
    /// The channel closed: a telegram in progress can never complete.
    mutating func reset()
}

struct P1MeterDecoder: MeterDecoder {
    private var framer: P1Framer
    private var smarty: (splitter: SmartyFrameSplitter, decryptor: SmartyDecryptor)?
    private let device: String
    private var smartyFailures = 0

    /// DSMR 4 and older send every 10 s: assume the slow one until a telegram says more.
    var defaultPeriod: Duration { .seconds(10) }

    var framingErrors: Int {
        let s = framer.statistics
        return s.truncatedTelegrams + s.oversizeTelegrams + s.malformedEndings
    }

    init(device: String, sevenBitLine: Bool, smartyKey: [UInt8]?) throws(SmartyFrameError) {
        self.device = device
        framer = P1Framer(configuration: .init(maskSevenBit: sevenBitLine))
        if let smartyKey { smarty = (SmartyFrameSplitter(), try SmartyDecryptor(key: smartyKey)) }
    }

    mutating func feed(_ bytes: [UInt8], at now: Date) -> [DecodedFrame] {
        guard var s = smarty else {
            return framer.append(bytes).map { parse($0.bytes, raw: $0.bytes, smarty: false, at: now) }
        }
        let frames = s.splitter.append(bytes)
        smarty = s
        return frames.map { frame in
            do throws(SmartyFrameError) {
                let plain = try s.decryptor.decrypt(try SmartyFrame(bytes: frame))
                return parse(plain, raw: frame, smarty: true, at: now)
            } catch {
                return DecodedFrame(raw: frame, outcome: .rejected(.other, reason: "smarty frame: \(error)"))
            }
        }
    }

    mutating func reset() { framer.reset() }

    private func parse(_ telegram: [UInt8], raw: [UInt8], smarty: Bool, at now: Date) -> DecodedFrame {
        let options = P1ParseOptions(device: device, decryptedFromSmarty: smarty)
        do throws(P1TelegramError) {
            let t = try P1Parser.parse(telegram, options: options, receivedAt: now)
            return DecodedFrame(raw: raw, outcome: .reading(t.reading, period: t.nominalPeriod))
        } catch {
            switch error {
            case .crcMismatch(let printed, let computed):
                let hex = { (v: UInt16) in String(v, radix: 16, uppercase: true) }
                return DecodedFrame(raw: raw, outcome: .rejected(.badCRC, reason: "CRC \(hex(printed)) printed, \(hex(computed)) computed"))
            case .missingCRC(let variant):
                return DecodedFrame(raw: raw, outcome: .rejected(.other, reason: "no CRC although \(variant) requires one"))
            case .notATelegram:
                return DecodedFrame(raw: raw, outcome: .rejected(.other, reason: "not a telegram"))
            }
        }
    }
}

struct TICMeterDecoder: MeterDecoder {
    private var framer = TICFramer()
    private let device: String
    let defaultPeriod: Duration

    var framingErrors: Int {
        let s = framer.statistics
        return s.interruptedFrames + s.truncatedFrames + s.oversizeFrames
    }

    init(device: String, expectedMode: TICMode) {
        self.device = device
        defaultPeriod = expectedMode.nominalPeriod
    }

    mutating func feed(_ bytes: [UInt8], at now: Date) -> [DecodedFrame] {
        framer.append(bytes).map { raw in
            do throws(TICFrameError) {
                let frame = try TICParser.parse(raw, device: device, receivedAt: now)
                return DecodedFrame(raw: raw.bytes, outcome: .reading(frame.reading, period: frame.mode.nominalPeriod),
                                    droppedGroups: frame.checksumFailures)
            } catch {
                switch error {
                case .noValidGroup(let checksumFailures, let malformed) where checksumFailures > 0:
                    return DecodedFrame(raw: raw.bytes, outcome: .rejected(
                        .badChecksum, reason: "no valid group (\(checksumFailures) bad checksums, \(malformed) malformed)"))
                case .noValidGroup(_, let malformed):
                    return DecodedFrame(raw: raw.bytes, outcome: .rejected(.other, reason: "no valid group (\(malformed) malformed)"))
                case .notAFrame:
                    return DecodedFrame(raw: raw.bytes, outcome: .rejected(.other, reason: "not a frame"))
                }
            }
        }
    }

    /// TIC frames carry their own STX; a partial frame is dropped by the next STX.
    mutating func reset() {}
}

extension TICMode {
    /// Frames follow back to back: a historique frame takes 1–2.5 s at 1200 Bd
    /// (mono to three-phase), a standard frame about 1–2 s at 9600 Bd.
    var nominalPeriod: Duration { self == .historique ? .seconds(3) : .seconds(2) }
}
