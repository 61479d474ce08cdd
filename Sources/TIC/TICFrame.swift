import PhasorCore

/// A parsed TIC frame: the published `Reading` plus named tariff and status fields.
public struct TICFrame: Sendable {
    public var mode: TICMode
    public var device: String
    /// DATE when sent, else the receive time.
    public var time: MeterTimestamp
    /// Every value in catalogue quantities and units, in frame order.
    public var values: [(quantity: Quantity, value: MeasuredValue)]
    /// The values as a PhasorCore `Reading`. Built on each access (build it once per
    /// frame): `Reading` de-duplicates with a linear search per value.
    public var reading: Reading { Reading(device: device, time: time, labeledValues: values) }
    /// The checksum-valid groups, as sent.
    public var groups: [TICGroup]
    /// Groups dropped because their checksum failed (never published).
    public var checksumFailures: Int
    /// Chunks that were not groups at all (broken delimiters, missing separator).
    public var malformedGroups: Int
    /// Groups with a valid checksum whose data could not be read (not a number, bad horodate).
    public var invalidValues: Int
    /// DATE (standard mode).
    public var meterTime: TICHorodate?
    /// STGE (standard mode), decoded.
    public var status: TICStatusRegister?
    public var tariff: TICTariffSignals
    /// Three-phase meter (phase 2/3 labels present).
    public var isThreePhase: Bool
    /// A three-phase historique short frame (ADIRx, ADCO, IINSTx only), sent in
    /// bursts while a phase is over its current: fields missing here have not disappeared.
    public var isShortFrame: Bool
    /// Units of values published under `tic_…` names.
    public var genericUnits: [Quantity: String]
    /// True when every group of the frame passed: the frame is complete.
    public var isComplete: Bool { checksumFailures == 0 && malformedGroups == 0 && invalidValues == 0 }
}

public struct TICGroup: Sendable, Hashable {
    public var label: String
    /// The data field exactly as sent (padding kept).
    public var data: String
    public var horodate: TICHorodate?
}

public enum TICFrameError: Error, Sendable, Hashable {
    /// No STX … ETX in the bytes.
    case notAFrame
    /// Not a single group passed: nothing to publish.
    case noValidGroup(checksumFailures: Int, malformedGroups: Int)
}
