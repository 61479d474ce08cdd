import Foundation
import PhasorCore

/// How to parse telegrams of one meter.
public struct P1ParseOptions: Sendable, Hashable {
    /// The device id the `Reading` carries (`p1`, `grid_meter`…).
    public var device: String
    /// Reject telegrams whose CRC does not match, or that lack one although their
    /// version requires it. Switch off only for known-bad sources (spec examples).
    public var verifyCRC: Bool
    /// Set by the Smarty decryptor: the telegram came out of a Smarty frame.
    public var decryptedFromSmarty: Bool

    public init(device: String = "p1", verifyCRC: Bool = true, decryptedFromSmarty: Bool = false) {
        self.device = device
        self.verifyCRC = verifyCRC
        self.decryptedFromSmarty = decryptedFromSmarty
    }
}

/// Parses one complete telegram (as `P1Framer` hands them out) into a `P1Telegram`.
public enum P1Parser {
    /// - Parameter receivedAt: used as the reading time when the telegram carries no
    ///   valid meter clock (DSMR 2.2/3, Q3D).
    public static func parse(
        _ telegram: P1RawTelegram, options: P1ParseOptions = P1ParseOptions(), receivedAt: Date
    ) throws(P1TelegramError) -> P1Telegram {
        try parse(telegram.bytes, options: options, receivedAt: receivedAt)
    }

    public static func parse(
        _ bytes: [UInt8], options: P1ParseOptions = P1ParseOptions(), receivedAt: Date
    ) throws(P1TelegramError) -> P1Telegram {
        let result = bytes.withUnsafeBufferPointer { buf -> Result<P1Telegram, P1TelegramError> in
            parse(buf, raw: bytes, options: options, receivedAt: receivedAt)
        }
        return try result.get()
    }

    private static func parse(
        _ buf: UnsafeBufferPointer<UInt8>, raw: [UInt8], options: P1ParseOptions, receivedAt: Date
    ) -> Result<P1Telegram, P1TelegramError> {
        guard let slash = ASCII.find(ASCII.slash, in: buf, from: 0),
            let bang = ASCII.find(ASCII.bang, in: buf, from: slash)
        else { return .failure(.notATelegram) }

        // Up to four CRC digits after "!" (three when a device drops the leading zero).
        var printedCRC: UInt16?
        var i = bang + 1
        var digits = 0
        var crcValue: UInt16 = 0
        while i < buf.count, digits < 4, let h = ASCII.hexValue(buf[i]) {
            crcValue = crcValue << 4 | UInt16(h)
            digits += 1
            i += 1
        }
        if digits > 0 { printedCRC = crcValue }

        if options.verifyCRC, let printed = printedCRC {
            let computed = CRC16ARC.checksum(buf, from: slash, to: bang + 1)
            if computed != printed { return .failure(.crcMismatch(printed: printed, computed: computed)) }
        }

        var headerEnd = slash + 1
        while headerEnd < bang, buf[headerEnd] != ASCII.cr, buf[headerEnd] != ASCII.lf { headerEnd += 1 }
        let identification = ASCII.latin1(buf, (slash + 1)..<headerEnd)

        var scanner = P1LineScanner()
        scanner.scan(buf, from: headerEnd, to: bang)

        let interpreter = scanner.groups.withUnsafeBufferPointer { groups in
            var interpreter = P1Interpreter(buf: buf, groups: groups)
            for span in scanner.spans { interpreter.interpret(span) }
            for line in scanner.malformedLines {
                interpreter.issues.append(P1LineIssue(kind: .malformedLine, line: ASCII.latin1(buf, line)))
            }
            interpreter.publishMBusDevices()
            return interpreter
        }

        let variant = detectVariant(
            identification: identification, markers: interpreter.markers, hasCRC: printedCRC != nil,
            smarty: options.decryptedFromSmarty)
        if options.verifyCRC, printedCRC == nil, variant.requiresCRC {
            return .failure(.missingCRC(variant))
        }
        let crcStatus: P1CRCStatus =
            options.verifyCRC ? (printedCRC == nil ? .absent : .verified) : .notChecked(printed: printedCRC)

        let time = interpreter.meterTime ?? MeterTimestamp(date: receivedAt, utcOffsetSeconds: 0)
        return .success(
            P1Telegram(
                identification: identification,
                variant: variant,
                versionCode: interpreter.markers.versionCode,
                crc: crcStatus,
                device: options.device,
                time: time,
                values: interpreter.values,
                meterTime: interpreter.meterTime,
                currentMonthPeak: interpreter.currentMonthPeak,
                monthPeakHistory: interpreter.monthPeakHistory,
                powerFailureLog: interpreter.powerFailureLog,
                mbusDevices: interpreter.mbusDevices,
                issues: interpreter.issues,
                genericUnits: interpreter.genericUnits,
                raw: raw,
                objectSpans: scanner.spans,
                groupRanges: scanner.groups))
    }

    /// The quantity an electricity-meter object is published under, for documentation
    /// and cross-checks: catalogue names for known objects, `obis_…` for the rest.
    /// Nil for M-Bus channel objects (named by medium), the limiter threshold (named
    /// by its unit) and objects published only as structured extras (logs, histories).
    public static func publishedQuantity(for obis: OBISCode) -> Quantity? {
        if obis.a == 0, obis.b >= 1, Int(obis.b) <= P1MBusCollector.maximumChannel, obis.c == 96, obis.d == 3,
            obis.e == 10
        {
            return .relayState(Int(obis.b))
        }
        guard let meaning = P1ObjectCatalogue.meaning(of: obis) else {
            let mbusChannel = obis.a == 0 && obis.b >= 1 && Int(obis.b) <= P1MBusCollector.maximumChannel
            return mbusChannel ? nil : Quantity(obis.genericQuantityName)
        }
        switch meaning {
        case .measurement(let name, _), .timestamp(let name), .text(let name), .hexText(let name), .version(let name):
            return name.quantity
        case .monthPeak: return .powerImportMonthPeak
        case .limiterThreshold, .monthPeakHistory, .powerFailureLog, .importExportCurrentLimits: return nil
        }
    }

    static func detectVariant(identification: String, markers: P1Markers, hasCRC: Bool, smarty: Bool) -> P1Variant {
        // Group F alone is not enough: the DSMR 4.2.2 example prints `.255` on a few lines.
        if (markers.groupFPrinted && !hasCRC) || identification.hasPrefix("ESY") { return .easyMeterQ3D }
        if smarty || identification.hasPrefix("Lux") { return .luxembourgSmarty }
        if markers.belgianVersion || identification.hasPrefix("FLU") { return .belgianEMUCS }
        if let v = markers.versionCode, let first = v.first {
            if first == "4" { return .dsmr4 }
            if first == "5" { return .dsmr5 }
        }
        if markers.logicalDeviceName { return .hungarian }
        return hasCRC ? .unknownWithCRC : .dsmr2or3
    }
}

/// Facts about the telegram that decide its variant.
struct P1Markers {
    var versionCode: String?
    var belgianVersion = false
    var groupFPrinted = false
    var logicalDeviceName = false
}
