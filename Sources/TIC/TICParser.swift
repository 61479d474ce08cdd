import Foundation
import PhasorCore

/// Parses one frame (as `TICFramer` hands them out) into a `TICFrame`.
///
/// A group whose checksum fails is dropped and counted; the frame's other groups
/// are still published. Each group carries its own checksum and the frame its own
/// STX/ETX, so a transmission error stays confined to the group it hit (a lost CR
/// or LF merges or splits groups, which then fail their checksum). The reference
/// (B3) allows this. The one value built from several groups, the historique total
/// `energy_import` summed over the tariff indexes, is only published when no
/// group of the frame failed, so a dropped index never shows as a drop in the total.
public enum TICParser {
    public static func parse(_ frame: TICRawFrame, device: String = "tic", receivedAt: Date) throws(TICFrameError) -> TICFrame {
        try parse(frame.bytes, device: device, receivedAt: receivedAt)
    }

    public static func parse(_ bytes: [UInt8], device: String = "tic", receivedAt: Date) throws(TICFrameError) -> TICFrame {
        let result = bytes.withUnsafeBufferPointer { buf -> Result<TICFrame, TICFrameError> in
            guard let stx = buf.firstIndex(of: TICFramer.stx),
                let etx = buf[stx...].firstIndex(of: TICFramer.etx)
            else { return .failure(.notAFrame) }
            let scanner = TICGroupScanner(buf, from: stx + 1, to: etx)
            guard let first = scanner.groups.first else {
                return .failure(
                    .noValidGroup(checksumFailures: scanner.checksumFailures, malformedGroups: scanner.malformedGroups))
            }
            var builder = TICFrameBuilder(buf: buf, mode: first.mode)
            for span in scanner.groups { builder.add(span) }
            return .success(
                builder.finish(
                    device: device, receivedAt: receivedAt, checksumFailures: scanner.checksumFailures,
                    malformedGroups: scanner.malformedGroups))
        }
        return try result.get()
    }
}

/// Publishes groups one by one into quantities and named fields.
struct TICFrameBuilder {
    let buf: UnsafeBufferPointer<UInt8>
    let mode: TICMode
    var values: [(quantity: Quantity, value: MeasuredValue)] = []
    var groups: [TICGroup] = []
    var genericUnits: [Quantity: String] = [:]
    var tariff = TICTariffSignals()
    var status: TICStatusRegister?
    var meterTime: TICHorodate?
    var invalidValues = 0
    var isThreePhase = false
    var sawADIR = false
    var sawTariffOption = false
    var totalIndexSeen = false
    var tariffIndexSumWh: Int64 = 0
    var tariffIndexCount = 0

    init(buf: UnsafeBufferPointer<UInt8>, mode: TICMode) {
        self.buf = buf
        self.mode = mode
        values.reserveCapacity(64)
        groups.reserveCapacity(64)
    }

    /// Group bytes are 7-bit (masked by the framer, checked by the checksum): ASCII.
    private func text(_ r: Range<Int>) -> String {
        let bytes = UnsafeBufferPointer(rebasing: buf[r])
        if !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        var s = String()
        for b in bytes { s.unicodeScalars.append(Unicode.Scalar(b)) }
        return s
    }

    private func integer(_ r: Range<Int>) -> Int64? {
        guard !r.isEmpty, r.count <= 18 else { return nil }
        var v: Int64 = 0
        for i in r {
            let d = buf[i] &- 0x30
            guard d < 10 else { return nil }
            v = v * 10 + Int64(d)
        }
        return v
    }

    mutating func add(_ span: TICGroupSpan) {
        let label = text(span.label)
        let data = text(span.data)
        var horodate: TICHorodate?
        if let h = span.horodate {
            horodate = TICHorodate.scan(buf, h)
            if horodate == nil, buf[h.lowerBound] != 0x20 || h.count != 13 { invalidValues += 1 }
        }
        groups.append(TICGroup(label: label, data: data, horodate: horodate))

        guard let definition = TICLabels.all[label] else {
            publishUnknown(label, span, horodate)
            return
        }
        if let signal = definition.signal { note(signal, data, span, horodate) }
        switch definition.kind {
        case .clock:
            guard let horodate else { return }
            meterTime = horodate
            values.append((definition.quantity, .time(horodate.timestamp)))
            return
        case .index:
            guard let wh = integer(span.data) else {
                invalidValues += 1
                return
            }
            values.append((definition.quantity, .number(Double(wh) / 1000)))
            if definition.quantity == .energyImport {
                totalIndexSeen = true
            } else if mode == .historique, definition.unit == "Wh" {
                tariffIndexSumWh += wh
                tariffIndexCount += 1
            }
        case .integer:
            guard let n = integer(span.data) else {
                invalidValues += 1
                return
            }
            values.append((definition.quantity, .number(Double(n))))
            if definition.quantity.unit == nil, let unit = definition.unit { genericUnits[definition.quantity] = unit }
        case .text:
            values.append((definition.quantity, .text(trimmed(data))))
        }
        if let horodate { values.append((definition.timeQuantity, .time(horodate.timestamp))) }
    }

    private mutating func publishUnknown(_ label: String, _ span: TICGroupSpan, _ horodate: TICHorodate?) {
        let q = TICLabels.genericName(label)
        if let n = integer(span.data) {
            values.append((q, .number(Double(n))))
        } else {
            values.append((q, .text(trimmed(text(span.data)))))
        }
        if let horodate { values.append((Quantity(q.rawValue + "_time"), .time(horodate.timestamp))) }
    }

    private func trimmed(_ s: String) -> String {
        var sub = Substring(s)
        while sub.first == " " { sub.removeFirst() }
        while sub.last == " " { sub.removeLast() }
        return String(sub)
    }

    /// Named tariff and state fields.
    private mutating func note(_ signal: TICSignal, _ data: String, _ span: TICGroupSpan, _ horodate: TICHorodate?) {
        switch signal {
        case .tariffOption:
            tariff.tariffOption = data
            sawTariffOption = true
        case .currentPeriod:
            tariff.currentPeriod = data
            tariff.ejpPeakActive = data == "PM.."
            if data.count == 4, data.hasPrefix("HC") || data.hasPrefix("HP") {
                switch data.suffix(2) {
                case "JB": tariff.tempoToday = .blue
                case "JW": tariff.tempoToday = .white
                case "JR": tariff.tempoToday = .red
                default: break
                }
            }
        case .tomorrowColour: tariff.tempoTomorrow = TempoColour(demain: data)
        case .ejpNotice: tariff.ejpNoticeMinutes = integer(span.data).map { Int($0) }
        case .supplierCalendar: tariff.supplierCalendar = trimmed(data)
        case .currentTariffLabel: tariff.currentTariffLabel = trimmed(data)
        case .currentTariffIndex: tariff.currentTariffIndex = integer(span.data).map { Int($0) }
        case .dayProfileToday: tariff.dayProfileToday = integer(span.data).map { Int($0) }
        case .dayProfileTomorrow: tariff.dayProfileTomorrow = integer(span.data).map { Int($0) }
        case .tomorrowSchedule:
            tariff.tomorrowSchedule = data.split(separator: " ").map(String.init).filter { $0 != "NONUTILE" }
        case .relays:
            if let bits = integer(span.data), bits <= 255 { tariff.relays = (0..<8).map { bits >> $0 & 1 == 1 } }
        case .statusRegister:
            status = TICStatusRegister(hex: data)
            if status == nil { invalidValues += 1 }
        case .overSubscription: tariff.overCurrentPhases.append(0)
        case .overCurrent(let phase):
            sawADIR = true
            isThreePhase = true
            tariff.overCurrentPhases.append(phase)
        case .mobilePeakStart(let index), .mobilePeakEnd(let index):
            var peak = tariff.mobilePeaks.first(where: { $0.index == index }) ?? TICMobilePeak(index: index, start: nil, end: nil)
            if case .mobilePeakStart = signal { peak.start = horodate } else { peak.end = horodate }
            tariff.mobilePeaks.removeAll { $0.index == index }
            tariff.mobilePeaks.append(peak)
        case .laterPhase:
            isThreePhase = true
        }
    }

    mutating func finish(device: String, receivedAt: Date, checksumFailures: Int, malformedGroups: Int) -> TICFrame {
        if mode == .historique, !totalIndexSeen, tariffIndexCount > 0, checksumFailures == 0, malformedGroups == 0 {
            values.append((.energyImport, .number(Double(tariffIndexSumWh) / 1000)))
        }
        if let status {
            if tariff.tempoToday == nil, status.tempoColourToday != .none { tariff.tempoToday = status.tempoColourToday }
            if tariff.tempoTomorrow == nil { tariff.tempoTomorrow = status.tempoColourTomorrow }
        }
        tariff.mobilePeaks.sort { $0.index < $1.index }
        values += tariff.normalisedValues
        let time = meterTime?.timestamp ?? MeterTimestamp(date: receivedAt, utcOffsetSeconds: 0)
        return TICFrame(
            mode: mode,
            device: device,
            time: time,
            values: values,
            groups: groups,
            checksumFailures: checksumFailures,
            malformedGroups: malformedGroups,
            invalidValues: invalidValues,
            meterTime: meterTime,
            status: status,
            tariff: tariff,
            isThreePhase: isThreePhase,
            isShortFrame: sawADIR && !sawTariffOption,
            genericUnits: genericUnits)
    }
}
