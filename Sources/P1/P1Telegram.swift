import Foundation
import PhasorCore

/// A parsed telegram: the published `Reading` plus the structured extras the
/// control service needs.
public struct P1Telegram: Sendable {
    /// The identification line without `/` (`FLU5\253769484_A`).
    public var identification: String
    public var variant: P1Variant
    /// Version string the meter printed (`50`, `42`, BE `50217`), if any.
    public var versionCode: String?
    public var crc: P1CRCStatus
    /// The device id the reading carries.
    public var device: String
    /// The reading's time: the meter clock when valid, else the receive time.
    public var time: MeterTimestamp
    /// Every value in catalogue quantities and units, in telegram order (M-Bus
    /// devices last). A quantity repeated by the meter appears twice; `reading` keeps the later.
    public var values: [(quantity: Quantity, value: MeasuredValue)]
    /// The meter clock (`0-0:1.0.0`) when sent and valid.
    public var meterTime: MeterTimestamp?
    /// BE `1-0:1.6.0`: this month's highest quarter-hour average and when it happened.
    public var currentMonthPeak: P1MonthPeak?
    /// BE `0-0:98.1.0`: peaks of past months, oldest first (≤ 13).
    public var monthPeakHistory: [P1MonthPeak]
    /// `1-0:99.97.0`: long power failures, as printed (≤ 10).
    public var powerFailureLog: [P1PowerFailure]
    public var mbusDevices: [P1MBusDevice]
    /// Lines skipped or values refused; the rest of the telegram is still valid.
    public var issues: [P1LineIssue]
    /// Units of values published under generic names (`obis_…`), as the meter printed them.
    public var genericUnits: [Quantity: String]
    /// The telegram bytes, for passthrough and for `objects`.
    public var raw: [UInt8]
    let objectSpans: [P1ObjectSpan]
    let groupRanges: [Range<Int>]

    /// The values as a PhasorCore `Reading`, what the gateway publishes. Built on each
    /// access (build it once per telegram); it adopts `values` without copying them
    /// unless a quantity repeats.
    public var reading: Reading { Reading(device: device, time: time, labeledValues: values) }

    /// Nominal interval between telegrams of this meter (see `P1Variant.nominalPeriod`).
    public var nominalPeriod: Duration { variant.nominalPeriod }

    /// Every object as printed (raw strings), for logging and unknown-object debugging.
    /// Built on demand: the hot path never creates these strings.
    public var objects: [P1Object] {
        raw.withUnsafeBufferPointer { buf in
            objectSpans.map { span in
                P1Object(
                    obis: span.obis,
                    values: groupRanges[span.groups].map { ASCII.latin1(buf, $0) })
            }
        }
    }
}

public enum P1CRCStatus: Sendable, Hashable {
    case verified
    /// The version has no CRC (DSMR 2.2/3, Q3D).
    case absent
    /// Checking was switched off; the printed value is kept.
    case notChecked(printed: UInt16?)
}

/// One line `A-B:C.D.E(v1)(v2)…` with its values as printed.
public struct P1Object: Sendable, Hashable {
    public var obis: OBISCode
    public var values: [String]
}

/// A quarter-hour import peak (Belgian capacity tariff).
public struct P1MonthPeak: Sendable, Hashable {
    /// Start of the month the peak belongs to (history entries only).
    public var monthStart: MeterTimestamp?
    /// When the peak happened; nil for the `632525252525W` placeholder.
    public var peakTime: MeterTimestamp?
    /// The quarter-hour average in W.
    public var power: Double
}

/// One entry of the long power-failure log.
public struct P1PowerFailure: Sendable, Hashable {
    /// When the failure ended; nil for a placeholder.
    public var end: MeterTimestamp?
    public var durationSeconds: Double
}

/// Where one object's OBIS code and value groups sit in the raw bytes.
struct P1ObjectSpan: Sendable {
    var obis: OBISCode
    var groups: Range<Int>
    var line: Range<Int>
}
