import PhasorCore

/// Quantity names built once, so a telegram never formats a name.
enum P1Quantities {
    private static let relays = (0...P1MBusCollector.maximumChannel).map { Quantity.relayState($0) }
    static func relay(_ n: Int) -> Quantity { relays[n] }

    /// The names one M-Bus device publishes under.
    struct MBusNames: Sendable {
        var value: Quantity
        var time: Quantity
        var meterID: Quantity
        var ean: Quantity
        var valve: Quantity

        /// The first device of a medium is `gas_volume`; a second one of the same
        /// medium (channel order) is `gas2_volume`, a third `gas3_volume`.
        init(medium: P1MBusMedium, ordinal: Int) {
            let prefix = ordinal <= 1 ? medium.namePrefix : "\(medium.namePrefix)\(ordinal)"
            value = Quantity("\(prefix)_\(medium.valueSuffix)")
            time = Quantity("\(prefix)_\(medium.valueSuffix)_time")
            meterID = Quantity("\(prefix)_meter_id")
            ean = Quantity("\(prefix)_meter_ean")
            valve = Quantity("\(prefix)_valve_state")
        }
    }

    private static let common: [P1MBusMedium] = [.gas, .water, .heat, .cooling, .heatAndCooling, .hotWater, .electricity]
    private static let commonNames: [[MBusNames]] = common.map { medium in
        (1...4).map { MBusNames(medium: medium, ordinal: $0) }
    }

    static func mbus(_ medium: P1MBusMedium, ordinal: Int) -> MBusNames {
        if ordinal >= 1, ordinal <= 4, let m = common.firstIndex(of: medium) {
            return commonNames[m][ordinal - 1]
        }
        return MBusNames(medium: medium, ordinal: ordinal)
    }
}

extension P1Interpreter {
    /// Publishes every M-Bus channel seen, named by medium (see `P1Quantities.MBusNames`).
    /// Channels without a device behind them (placeholder capture time, zero value)
    /// are listed in `mbusDevices` but not published, so an empty channel 1 never
    /// shadows the real gas meter on channel 2.
    mutating func publishMBusDevices() {
        mbusDevices.reserveCapacity(mbus.channels.count)
        for (channel, p) in mbus.channels {
            let medium = p.typeCode.map(P1MBusMedium.init(code:))
            var device = P1MBusDevice(
                channel: channel, medium: medium,
                equipmentID: p.equipmentID.flatMap { $0.isEmpty ? nil : HexText.decode(buf, $0) },
                ean: p.ean.flatMap { $0.isEmpty ? nil : HexText.decode(buf, $0) },
                value: nil, captureTime: nil, valvePosition: nil, isEmptyChannel: false, valueQuantity: nil)
            var capturePlaceholder = true
            if let t = p.captureTime, let parsed = P1Timestamp.scan(buf, t) {
                device.captureTime = parsed.timestamp
                capturePlaceholder = parsed.timestamp == nil
            }
            if let v = p.value, let value = mbusValue(v, unitOverride: p.unitOverride, medium: medium) {
                device.value = value
            }
            if let valve = p.valve, let n = P1Number.scan(buf, valve) { device.valvePosition = n.value }
            device.isEmptyChannel = capturePlaceholder && (device.value ?? 0) == 0
            if let medium, !device.isEmptyChannel {
                // Published devices of this medium before this one (a handful at most).
                var ordinal = 1
                for earlier in mbusDevices where earlier.medium == medium && !earlier.isEmptyChannel { ordinal += 1 }
                let names = P1Quantities.mbus(medium, ordinal: ordinal)
                if let value = device.value {
                    values.append((names.value, .number(value)))
                    values.append((names.time, .time(device.captureTime)))
                    device.valueQuantity = names.value
                }
                if let id = device.equipmentID { values.append((names.meterID, .text(id))) }
                if let ean = device.ean { values.append((names.ean, .text(ean))) }
                if let valve = device.valvePosition { values.append((names.valve, .number(valve))) }
            }
            mbusDevices.append(device)
        }
    }

    private mutating func mbusValue(_ group: Range<Int>, unitOverride: Range<Int>?, medium: P1MBusMedium?) -> Double? {
        let (number, printedUnit) = P1Number.scan(buf, valueAndUnit: group)
        let unitRange = printedUnit ?? unitOverride
        guard let n = number else {
            issues.append(P1LineIssue(kind: .invalidValue, line: ASCII.latin1(buf, group)))
            return nil
        }
        let dimension = medium?.dimension ?? .volume
        guard let exponent = dimension.exponent(from: unitRange.map { P1Unit.scan(buf, $0) }) else {
            issues.append(P1LineIssue(kind: .unexpectedUnit, line: ASCII.latin1(buf, group)))
            return nil
        }
        return n.scaled(byPowerOfTen: exponent)
    }
}
