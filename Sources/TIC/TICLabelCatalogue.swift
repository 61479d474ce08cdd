import PhasorCore

/// How a label's data is published.
public enum TICValueKind: Sendable, Hashable {
    /// An energy index in Wh (VArh), published in kWh (kvarh).
    case index
    /// An integer in the label's own unit (A, V, VA, W, kVA, min).
    case integer
    /// Text, published with its padding spaces trimmed.
    case text
    /// `DATE`: the data is empty, the horodate is the meter clock.
    case clock
}

/// One label of the Enedis specification: its unit and where it is published.
public struct TICLabelDefinition: Sendable, Hashable {
    public var label: String
    /// The unit the meter sends (`Wh`, `VA`…); nil for texts and codes.
    public var unit: String?
    public var kind: TICValueKind
    /// The published quantity: a catalogue name, or `tic_<label>` (see `TICLabels.genericName`).
    public var quantity: Quantity
    /// Where a horodate sent with this label is published (`<quantity>_time`).
    public var timeQuantity: Quantity
    /// The named field the label also feeds, decided once here so a frame never
    /// compares label strings.
    var signal: TICSignal?
}

/// Labels that feed `TICTariffSignals`, the status register or the frame flags.
enum TICSignal: Sendable, Hashable {
    case tariffOption, currentPeriod, tomorrowColour, ejpNotice, supplierCalendar, currentTariffLabel
    case currentTariffIndex, dayProfileToday, dayProfileTomorrow, tomorrowSchedule, relays, statusRegister
    case overSubscription, overCurrent(phase: Int), mobilePeakStart(Int), mobilePeakEnd(Int), laterPhase
}

/// Every label in the reference (NOI-CPT_54E §6.1 historique, §6.2.2 standard).
public enum TICLabels {
    /// `tic_` + the label in lower case; `-` becomes `_m` and `+` becomes `_p`, so
    /// `SMAXSN-1` → `tic_smaxsn_m1` and `NJOURF+1` → `tic_njourf_p1` stay distinct
    /// from `SMAXSN1`.
    public static func genericName(_ label: String) -> Quantity {
        var name = "tic_"
        for ch in label.lowercased() {
            switch ch {
            case "-": name += "_m"
            case "+": name += "_p"
            default: name.append(ch)
            }
        }
        return Quantity(name)
    }

    public static let all: [String: TICLabelDefinition] = {
        var d: [String: TICLabelDefinition] = [:]
        func add(_ label: String, _ unit: String?, _ kind: TICValueKind, _ quantity: Quantity? = nil) {
            let q = quantity ?? genericName(label)
            d[label] = TICLabelDefinition(
                label: label, unit: unit, kind: kind, quantity: q, timeQuantity: Quantity(q.rawValue + "_time"),
                signal: nil)
        }
        // Historique (B5). Tariff indexes become energy_import_tN in the order the
        // option lists them (off-peak first), so control code sees one scheme.
        add("ADCO", nil, .text, .meterID)
        add("OPTARIF", nil, .text)
        add("ISOUSC", "A", .integer)
        add("BASE", "Wh", .index, .energyImport)
        add("HCHC", "Wh", .index, Quantity.energyImport.tariff(1))
        add("HCHP", "Wh", .index, Quantity.energyImport.tariff(2))
        add("EJPHN", "Wh", .index, Quantity.energyImport.tariff(1))
        add("EJPHPM", "Wh", .index, Quantity.energyImport.tariff(2))
        for (k, label) in ["BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR"].enumerated() {
            add(label, "Wh", .index, Quantity.energyImport.tariff(k + 1))
        }
        add("PEJP", "min", .integer)
        add("PTEC", nil, .text, .tariffIndicator)
        add("DEMAIN", nil, .text)
        add("IINST", "A", .integer, Quantity.current.phase(1))
        for p in 1...3 {
            add("IINST\(p)", "A", .integer, Quantity.current.phase(p))
            add("ADIR\(p)", "A", .integer)
            add("IMAX\(p)", "A", .integer)
        }
        add("ADPS", "A", .integer)
        add("IMAX", "A", .integer)
        add("PMAX", "W", .integer)
        add("PAPP", "VA", .integer, .apparentPower)
        add("HHPHC", nil, .text)
        add("MOTDETAT", nil, .text)
        add("PPOT", nil, .text)
        add("GAZ", "dal", .integer)
        add("AUTRE", "dal", .integer)

        // Standard (B6).
        add("ADSC", nil, .text, .meterID)
        add("VTIC", nil, .text, .protocolVersion)
        add("DATE", nil, .clock, .meterTime)
        add("NGTF", nil, .text)
        add("LTARF", nil, .text, .tariffIndicator)
        add("EAST", "Wh", .index, .energyImport)
        for t in 1...10 { add(format2("EASF", t), "Wh", .index, Quantity.energyImport.tariff(t)) }
        for t in 1...4 { add(format2("EASD", t), "Wh", .index, .energyImportDistributor(t)) }
        add("EAIT", "Wh", .index, .energyExport)
        for q in 1...4 { add("ERQ\(q)", "VArh", .index, .reactiveEnergyQuadrant(q)) }
        for p in 1...3 {
            add("IRMS\(p)", "A", .integer, Quantity.current.phase(p))
            add("URMS\(p)", "V", .integer, Quantity.voltage.phase(p))
            add("SINSTS\(p)", "VA", .integer, Quantity.apparentPower.phase(p))
            add("SMAXSN\(p)", "VA", .integer)
            add("SMAXSN\(p)-1", "VA", .integer)
            add("UMOY\(p)", "V", .integer)
            add("DPM\(p)", nil, .text)
            add("FPM\(p)", nil, .text)
        }
        add("PREF", "kVA", .integer)
        add("PCOUP", "kVA", .integer)
        add("SINSTS", "VA", .integer, .apparentPower)
        add("SMAXSN", "VA", .integer)
        add("SMAXSN-1", "VA", .integer)
        add("SINSTI", "VA", .integer, .apparentPowerExport)
        add("SMAXIN", "VA", .integer)
        add("SMAXIN-1", "VA", .integer)
        add("CCASN", "W", .integer)
        add("CCASN-1", "W", .integer)
        add("CCAIN", "W", .integer)
        add("CCAIN-1", "W", .integer)
        add("STGE", nil, .text)
        add("MSG1", nil, .text)
        add("MSG2", nil, .text)
        add("PRM", nil, .text)
        add("RELAIS", nil, .integer)
        add("NTARF", nil, .integer)
        add("NJOURF", nil, .integer)
        add("NJOURF+1", nil, .integer)
        add("PJOURF+1", nil, .text)
        add("PPOINTE", nil, .text)

        let signals: [String: TICSignal] = [
            "OPTARIF": .tariffOption, "PTEC": .currentPeriod, "DEMAIN": .tomorrowColour, "PEJP": .ejpNotice,
            "NGTF": .supplierCalendar, "LTARF": .currentTariffLabel, "NTARF": .currentTariffIndex,
            "NJOURF": .dayProfileToday, "NJOURF+1": .dayProfileTomorrow, "PJOURF+1": .tomorrowSchedule,
            "RELAIS": .relays, "STGE": .statusRegister, "ADPS": .overSubscription,
            "ADIR1": .overCurrent(phase: 1), "ADIR2": .overCurrent(phase: 2), "ADIR3": .overCurrent(phase: 3),
            "DPM1": .mobilePeakStart(1), "DPM2": .mobilePeakStart(2), "DPM3": .mobilePeakStart(3),
            "FPM1": .mobilePeakEnd(1), "FPM2": .mobilePeakEnd(2), "FPM3": .mobilePeakEnd(3),
            "IINST2": .laterPhase, "IINST3": .laterPhase, "IRMS2": .laterPhase, "IRMS3": .laterPhase,
            "URMS2": .laterPhase, "URMS3": .laterPhase, "SINSTS2": .laterPhase, "SINSTS3": .laterPhase,
        ]
        for (label, signal) in signals { d[label]?.signal = signal }
        return d
    }()

    private static func format2(_ prefix: String, _ n: Int) -> String { n < 10 ? "\(prefix)0\(n)" : "\(prefix)\(n)" }
}
