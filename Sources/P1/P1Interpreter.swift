import PhasorCore

/// Turns scanned objects into catalogue quantities and the structured extras.
struct P1Interpreter {
    let buf: UnsafeBufferPointer<UInt8>
    let groups: UnsafeBufferPointer<Range<Int>>
    var values: [(quantity: Quantity, value: MeasuredValue)] = []
    var issues: [P1LineIssue] = []
    var genericUnits: [Quantity: String] = [:]
    var markers = P1Markers()
    var meterTime: MeterTimestamp?
    var currentMonthPeak: P1MonthPeak?
    var monthPeakHistory: [P1MonthPeak] = []
    var powerFailureLog: [P1PowerFailure] = []
    var mbusDevices: [P1MBusDevice] = []
    var mbus = P1MBusCollector()

    init(buf: UnsafeBufferPointer<UInt8>, groups: UnsafeBufferPointer<Range<Int>>) {
        self.buf = buf
        self.groups = groups
        values.reserveCapacity(64)
    }

    mutating func interpret(_ span: P1ObjectSpan) {
        let g = P1Groups(all: groups, range: span.groups)
        if span.obis.f != nil { markers.groupFPrinted = true }
        if let meaning = P1ObjectCatalogue.meaning(of: span.obis) {
            interpret(meaning, g, span)
        } else if mbus.take(span.obis, groups: g, buf: buf) {
            return
        } else if span.obis.a == 0, span.obis.b >= 1, Int(span.obis.b) <= P1MBusCollector.maximumChannel,
            span.obis.c == 96, span.obis.d == 3, span.obis.e == 10, g.count == 1
        {
            measurement(P1Quantities.relay(Int(span.obis.b)), .plain, g[0], span)
        } else {
            publishGeneric(span, g)
        }
    }

    private mutating func interpret(_ meaning: P1Meaning, _ g: P1Groups, _ span: P1ObjectSpan) {
        switch meaning {
        case .measurement(let name, let dimension):
            let q = name.quantity
            guard g.count == 1 else { return issue(.unexpectedShape, span) }
            measurement(q, dimension, g[0], span)
        case .timestamp(let name):
            let q = name.quantity
            guard g.count == 1, let parsed = P1Timestamp.scan(buf, g[0]) else { return issue(.invalidValue, span) }
            if case .time(let t) = parsed, span.obis.c == 1 { meterTime = t }
            values.append((q, .time(parsed.timestamp)))
        case .text(let name):
            let q = name.quantity
            guard g.count == 1 else { return issue(.unexpectedShape, span) }
            values.append((q, .text(ASCII.latin1(buf, g[0]))))
        case .hexText(let name):
            let q = name.quantity
            guard g.count == 1 else { return issue(.unexpectedShape, span) }
            if span.obis.c == 42 { markers.logicalDeviceName = true }
            values.append((q, .text(HexText.decode(buf, g[0]))))
        case .version(let name):
            let q = name.quantity
            guard g.count == 1 else { return issue(.unexpectedShape, span) }
            let code = ASCII.latin1(buf, g[0])
            markers.versionCode = code
            if span.obis.a == 0 { markers.belgianVersion = true }
            values.append((q, .text(code)))
        case .limiterThreshold:
            guard g.count == 1 else { return issue(.unexpectedShape, span) }
            let unitRange = P1Number.scan(buf, valueAndUnit: g[0]).unit
            switch unitRange.map({ P1Unit.scan(buf, $0) }) {
            case .ampere: measurement(.currentLimit, .current, g[0], span)
            case .kilovoltAmpere, .voltAmpere: measurement(.apparentPowerLimit, .apparentPower, g[0], span)
            default: measurement(.powerLimit, .activePower, g[0], span)
            }
        case .monthPeak:
            guard g.count == 2, let peak = monthPeak(monthStart: nil, time: g[0], value: g[1]) else {
                return issue(.invalidValue, span)
            }
            currentMonthPeak = peak
            values.append((.powerImportMonthPeak, .number(peak.power)))
            values.append((.powerImportMonthPeakTime, .time(peak.peakTime)))
        case .monthPeakHistory:
            if let history = monthPeakHistory(g) {
                monthPeakHistory = history
            } else {
                // Hungary sends a billing snapshot under the same code: keep it generic.
                publishGeneric(span, g)
            }
        case .powerFailureLog:
            guard let log = powerFailureLog(g) else { return issue(.unexpectedShape, span) }
            powerFailureLog = log
        case .importExportCurrentLimits:
            guard g.count == 2 else { return issue(.unexpectedShape, span) }
            measurement(.currentLimit, .current, g[0], span)
            measurement(.currentLimitExport, .current, g[1], span)
        }
    }

    // MARK: Values

    /// The group's number in the dimension's published unit, or nil with an issue recorded.
    private mutating func number(_ dimension: P1Dimension, _ group: Range<Int>, _ span: P1ObjectSpan) -> Double? {
        let (number, unitRange) = P1Number.scan(buf, valueAndUnit: group)
        guard let n = number else {
            issue(.invalidValue, span)
            return nil
        }
        guard let exponent = dimension.exponent(from: unitRange.map { P1Unit.scan(buf, $0) }) else {
            issue(.unexpectedUnit, span)
            return nil
        }
        return n.scaled(byPowerOfTen: exponent)
    }

    private mutating func measurement(_ q: Quantity, _ dimension: P1Dimension, _ group: Range<Int>, _ span: P1ObjectSpan) {
        if let v = number(dimension, group, span) { values.append((q, .number(v))) }
    }

    private mutating func issue(_ kind: P1LineIssue.Kind, _ span: P1ObjectSpan) {
        issues.append(P1LineIssue(kind: kind, line: ASCII.latin1(buf, span.line)))
    }

    /// Unknown objects: one numeric value as a number (unit kept in `genericUnits`),
    /// anything else as the printed text.
    private mutating func publishGeneric(_ span: P1ObjectSpan, _ g: P1Groups) {
        let q = Quantity(span.obis.genericQuantityName)
        if g.count == 1 {
            let (number, unitRange) = P1Number.scan(buf, valueAndUnit: g[0])
            if let n = number {
                values.append((q, .number(n.value)))
                if let u = unitRange { genericUnits[q] = ASCII.latin1(buf, u) }
                return
            }
            values.append((q, .text(ASCII.latin1(buf, g[0]))))
            return
        }
        var text = ""
        for k in 0..<g.count { text += "(" + ASCII.latin1(buf, g[k]) + ")" }
        values.append((q, .text(text)))
    }

    // MARK: Structured objects

    private mutating func monthPeak(monthStart: Range<Int>?, time: Range<Int>, value: Range<Int>) -> P1MonthPeak? {
        guard let peakTime = P1Timestamp.scan(buf, time) else { return nil }
        let (number, unitRange) = P1Number.scan(buf, valueAndUnit: value)
        guard let n = number,
            let exponent = P1Dimension.activePower.exponent(from: unitRange.map { P1Unit.scan(buf, $0) })
        else { return nil }
        var start: MeterTimestamp?
        if let monthStart {
            guard let parsed = P1Timestamp.scan(buf, monthStart) else { return nil }
            start = parsed.timestamp
        }
        return P1MonthPeak(monthStart: start, peakTime: peakTime.timestamp, power: n.scaled(byPowerOfTen: exponent))
    }

    /// `(n)(1-0:1.6.0)(1-0:1.6.0)` then n × `(month start)(peak time)(value*kW)`.
    private mutating func monthPeakHistory(_ g: P1Groups) -> [P1MonthPeak]? {
        guard g.count >= 3, let count = P1Number.scan(buf, g[0]), count.decimals == 0,
            count.mantissa >= 0, count.mantissa <= 13, g.count == 3 + 3 * Int(count.mantissa)
        else { return nil }
        var history: [P1MonthPeak] = []
        history.reserveCapacity(Int(count.mantissa))
        for k in 0..<Int(count.mantissa) {
            let base = 3 + 3 * k
            guard let peak = monthPeak(monthStart: g[base], time: g[base + 1], value: g[base + 2]) else { return nil }
            history.append(peak)
        }
        return history
    }

    /// `(z)(0-0:96.7.19)` then z × `(end)(duration*s)`; `()` means an empty log.
    private func powerFailureLog(_ g: P1Groups) -> [P1PowerFailure]? {
        if g.count == 1, g[0].isEmpty { return [] }
        guard g.count >= 2, let count = P1Number.scan(buf, g[0]), count.decimals == 0,
            count.mantissa >= 0, g.count == 2 + 2 * Int(count.mantissa)
        else { return nil }
        var log: [P1PowerFailure] = []
        log.reserveCapacity(Int(count.mantissa))
        for k in 0..<Int(count.mantissa) {
            let base = 2 + 2 * k
            guard let end = P1Timestamp.scan(buf, g[base]) else { return nil }
            let (number, unitRange) = P1Number.scan(buf, valueAndUnit: g[base + 1])
            guard let n = number,
                P1Dimension.duration.exponent(from: unitRange.map { P1Unit.scan(buf, $0) }) != nil
            else { return nil }
            log.append(P1PowerFailure(end: end.timestamp, durationSeconds: n.value))
        }
        return log
    }
}

extension P1Timestamp.Parsed {
    var timestamp: MeterTimestamp? {
        if case .time(let t) = self { t } else { nil }
    }
}
