import Control
import ControlSimulation
import Foundation
import PhasorCore
import Plant

// phasor-bench-year [--days N] [--slider KW] [--seed S] [--house] [--trace ISO-TIME]
//
// A simulated year of a Belgian household (32 A three-phase connection, DSMR 5 meter,
// synthetic SLP-like load with appliances and per-second noise, 5 kWp PV, one EV on an
// 11 kW charger) run twice on the same plant: Phasor's control, and a reactive
// per-second limiter of the evcc `maxPower` kind. Prints a table.
// --house: instead, Phasor on the same household without and with an SG-Ready heat pump,
// a boiler relay and a steered home battery (`HouseYear`), and a table comparing them.

/// What one controller did over the period.
struct Outcome {
    var name: String
    var monthPeaksW: [(month: String, peak: Double)]
    var deliveredWh = 0.0
    var missedWh = 0.0
    var importWh = 0.0
    var exportWh = 0.0
    var changes = 0
    var secondsOver = 0.0
    var decisionSecondsOver = 0.0
    var worstExcess = 0.0
    var seconds = 0.0
    /// Quarter hours averaging over the slider: how many, and the highest (start, W).
    var quartersOver = 0
    var worstQuarter: (start: Date, averageW: Double)?
}

@main
enum SimulatedYear {
    static func main() async throws {
        var daysArgument = 365
        var sliderArgument = 5.0
        var seedArgument: UInt64 = 2025
        var houseArgument = false
        var traceArgument: Date?
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let a = arguments.next() {
            switch a {
            case "--days": daysArgument = Int(arguments.next() ?? "") ?? daysArgument
            case "--slider": sliderArgument = Double(arguments.next() ?? "") ?? sliderArgument
            case "--seed": seedArgument = UInt64(arguments.next() ?? "") ?? seedArgument
            case "--house": houseArgument = true
            case "--trace":
                // A quarter hour to print second by second (with --house), e.g. 2025-02-11T18:30:00Z.
                traceArgument = ISO8601DateFormatter().date(from: arguments.next() ?? "")
                if traceArgument == nil {
                    print("--trace takes a UTC time such as 2025-02-11T18:30:00Z")
                    exit(2)
                }
            default:
                print("usage: phasor-bench-year [--days N] [--slider KW] [--seed S] [--house] [--trace ISO-TIME]")
                exit(2)
            }
        }

        let days = daysArgument
        let sliderKW = sliderArgument
        let seed = seedArgument
        let trace = traceArgument
        let start = Date(timeIntervalSince1970: 1_735_686_000)  // 2025-01-01 00:00 Brussels
        let end = start.addingTimeInterval(Double(days) * 86_400)
        let profiles = Profiles(seed: seed, pvPeakW: 5000, yearlyKWh: 3500)
        let sessions = profiles.sessions(from: start, days: days)
        let fuse = 32.0
        let car: @Sendable (Double) -> CarSpec = { wanted in
            CarSpec(phases: 3, maxCurrent: 16, lowerDelay: 1, riseDelay: 1, rampRate: 8, energyWantedWh: wanted, taperWh: 1000)
        }

        func siteModel(house: HouseConfig? = nil) throws -> SiteModel {
            try SiteModel(
                config: SiteConfig(
                    preset: .residential, budget: BudgetConfig(sliderKW: sliderKW),
                    site: PanelConfig(
                        id: "main", currentLimit: PhaseLimit(fuse), meter: .device("grid"),
                        chargePoints: [ChargePointConfig(id: "cp1", phases: 3, maxCurrent: 16)]),
                    house: house))
        }
        let model = try siteModel()
        let houseModel = try siteModel(house: HouseYear.house)

        /// The household's load with PV, or (`houseDevices`) without it, the house devices
        /// and their inverter in a second slot.
        @Sendable func plantConfig(houseDevices: Bool = false) -> PlantConfig {
            var config = PlantConfig(model: houseDevices ? houseModel : model, step: 1, explainWindow: 1 + 0.1 + 1 + 1 + 0.1)
            config.meters = [.dsmr5(device: "grid", panel: 0)]
            config.chargers[0].writeLatency = 0.1
            config.chargers[0].reportOffset = 0.5
            config.loads = houseDevices
                ? [LoadSpec(panel: 0, noise: 0.3, noiseHold: 1, profile: { t in profiles.household(t) }), LoadSpec(panel: 0)]
                : [LoadSpec(panel: 0, noise: 0.3, noiseHold: 1, profile: { t in profiles.household(t) + profiles.pvPhases(t) })]
            return config
        }

        @Sendable func monthPeaks(_ register: EnergyRegister) -> [(String, Double)] {
            var peaks: [String: Double] = [:]
            var brussels = Calendar(identifier: .gregorian)
            brussels.timeZone = TimeZone(identifier: "Europe/Brussels")!
            for q in register.closedQuarters {
                let c = brussels.dateComponents([.year, .month], from: q.start)
                let key = String(format: "%04d-%02d", c.year!, c.month!)
                peaks[key] = max(peaks[key] ?? 0, q.averageW)
            }
            return peaks.keys.sorted().map { ($0, peaks[$0]!) }
        }

        /// Runs a closed loop through the EV's stays (plugged at arrival, unplugged at
        /// departure) to the end; the energy delivered and missed, Wh.
        @Sendable func driveSessions<Loop>(
            _ loop: inout Loop, plant: WritableKeyPath<Loop, Plant>, run: (inout Loop, Date) -> Void
        ) -> (delivered: Double, missed: Double) {
            var delivered = 0.0
            var missed = 0.0
            for s in sessions where s.arrival < end {
                run(&loop, s.arrival)
                loop[keyPath: plant].plug(charger: 0, car: car(s.wantedWh))
                run(&loop, min(s.departure, end))
                delivered += loop[keyPath: plant].energyCharged(charger: 0)
                missed += max(0, s.wantedWh - loop[keyPath: plant].energyCharged(charger: 0))
                loop[keyPath: plant].unplug(charger: 0)
            }
            run(&loop, end)
            return (delivered, missed)
        }

        /// Phasor: the control library closed-loop on the plant, with the service's timing.
        @Sendable func runPhasor() -> Outcome {
            let clock = ContinuousClock.now
            var loop = ClosedLoop(model: model, plant: Plant(config: plantConfig(), start: start, seed: seed))
            loop.idleInterval = 10
            let (delivered, missed) = driveSessions(&loop, plant: \.plant) { $0.run(until: $1) }
            let ledger = loop.plant.ledger
            return Outcome(
                name: "Phasor", monthPeaksW: monthPeaks(loop.plant.mainEnergy), deliveredWh: delivered, missedWh: missed,
                importWh: loop.plant.mainEnergy.importWh, exportWh: loop.plant.mainEnergy.exportWh,
                changes: loop.stats.changes.count, secondsOver: ledger.totalSecondsOver,
                decisionSecondsOver: ledger.unexplainedSeconds, worstExcess: ledger.worstExcess,
                seconds: (ContinuousClock.now - clock) / .seconds(1))
        }

        /// The reactive limiter: on every meter reading, the EV gets what keeps the instant grid
        /// power under `maxPower` and every phase under the fuse, given what the charger last
        /// reported; whole amperes, 6 A minimum (below: paused), no hysteresis, no timers.
        @Sendable func runReactive() -> Outcome {
            let clock = ContinuousClock.now
            var plant = Plant(config: plantConfig(), start: start, seed: seed)
            let maxPower = sliderKW * 1000
            var setpoint = 0.0
            var changes = 0
            var evCurrents = PhaseAmperes.zero
            func run(until t: Date) {
                while plant.now < t {
                    let deliveries = plant.advance(to: min(t, plant.nextDelivery))
                    for d in deliveries {
                        switch d.output {
                        case .charger(let report): evCurrents = report.currents
                        case .meter(let reading):
                            guard plant.isPlugged(charger: 0) else { continue }
                            let grid = (reading.number(.powerImport) ?? 0) - (reading.number(.powerExport) ?? 0)
                            let evPower = evCurrents.sum() * 230
                            var current = (maxPower - grid + evPower) / (3 * 230)
                            for p in 0..<3 {
                                let signed = (reading.number(Quantity.powerImport.phase(p + 1)) ?? 0) > 0 ? 1.0 : -1.0
                                let i = signed * (reading.number(Quantity.current.phase(p + 1)) ?? 0)
                                current = min(current, fuse - i + evCurrents[p])
                            }
                            current = min(16, current.rounded(.down))
                            if current < 6 { current = 0 }
                            if current != setpoint {
                                changes += 1
                                setpoint = current
                            }
                            plant.write(charger: 0, current: setpoint)
                        }
                    }
                }
            }
            var delivered = 0.0
            var missed = 0.0
            for s in sessions where s.arrival < end {
                run(until: s.arrival)
                plant.plug(charger: 0, car: car(s.wantedWh))
                run(until: min(s.departure, end))
                delivered += plant.energyCharged(charger: 0)
                missed += max(0, s.wantedWh - plant.energyCharged(charger: 0))
                plant.unplug(charger: 0)
                setpoint = 0
                plant.write(charger: 0, current: 0)
            }
            run(until: end)
            return Outcome(
                name: "reactive limiter", monthPeaksW: monthPeaks(plant.mainEnergy), deliveredWh: delivered, missedWh: missed,
                importWh: plant.mainEnergy.importWh, exportWh: plant.mainEnergy.exportWh, changes: changes,
                secondsOver: plant.ledger.totalSecondsOver, decisionSecondsOver: plant.ledger.unexplainedSeconds,
                worstExcess: plant.ledger.worstExcess, seconds: (ContinuousClock.now - clock) / .seconds(1))
        }

        // PV production, integrated apart at one-minute resolution (the plant sees only net load).
        var pvWh = 0.0
        var t = start
        while t < end {
            pvWh += profiles.pv(t.addingTimeInterval(30)) / 60
            t = t.addingTimeInterval(60)
        }

        if houseArgument {
            try await printHouseTable(
                days: days, seed: seed, sliderKW: sliderKW, pvWh: pvWh, plain: { runPhasor() },
                house: {
                    let clock = ContinuousClock.now
                    var loop = HouseYear(
                        model: houseModel, plant: Plant(config: plantConfig(houseDevices: true), start: start, seed: seed),
                        devices: HouseYear.devices(pv: { profiles.pv($0) }),
                        householdW: { (profiles.household($0) * Profiles.voltage).sum() })
                    loop.trace = trace.map { $0.addingTimeInterval(-300) }
                    loop.traceSeconds = 1200
                    let (delivered, missed) = driveSessions(&loop, plant: \.plant) { $0.run(until: $1) }
                    let ledger = loop.plant.ledger
                    let outcome = Outcome(
                        name: "EV + house devices", monthPeaksW: monthPeaks(loop.plant.mainEnergy),
                        deliveredWh: delivered, missedWh: missed, importWh: loop.plant.mainEnergy.importWh,
                        exportWh: loop.plant.mainEnergy.exportWh, changes: loop.setpointChanges,
                        secondsOver: ledger.totalSecondsOver, decisionSecondsOver: ledger.unexplainedSeconds,
                        worstExcess: ledger.worstExcess, seconds: (ContinuousClock.now - clock) / .seconds(1))
                    var withQuarters = outcome
                    let quarters = loop.plant.mainEnergy.closedQuarters
                    withQuarters.quartersOver = quarters.filter { $0.averageW > sliderKW * 1000 + 1 }.count
                    withQuarters.worstQuarter = quarters.max { $0.averageW < $1.averageW }
                    return (withQuarters, loop)
                })
            return
        }

        // The two runs are independent: one per core.
        async let phasor = runPhasor()
        async let reactive = runReactive()
        let results = await [phasor, reactive]

        func kw(_ w: Double) -> String { String(format: "%.2f", w / 1000) }
        func kwh(_ wh: Double) -> String { String(format: "%.0f", wh / 1000) }
        func row(_ label: String, _ values: [String]) {
            print(label.padding(toLength: 40, withPad: " ", startingAt: 0) + values.map { $0.padding(toLength: 18, withPad: " ", startingAt: 0) }.joined())
        }

        let wanted = sessions.filter { $0.arrival < end }.reduce(0) { $0 + $1.wantedWh }
        print("Simulated \(days) days from 2025-01-01, seed \(seed): 32 A three-phase, DSMR 5, 5 kWp PV (\(kwh(pvWh)) kWh), slider \(sliderKW) kW,")
        print("\(sessions.filter { $0.arrival < end }.count) EV stays wanting \(kwh(wanted)) kWh (11 kW charger)\n")
        row("", results.map(\.name))
        for (k, month) in results[0].monthPeaksW.enumerated() {
            row("peak \(month.month) (kW, slider \(sliderKW))", results.map { k < $0.monthPeaksW.count ? kw($0.monthPeaksW[k].peak) : "-" })
        }
        row("mean monthly peak (kW, billed ≥ 2.5)", results.map { r in
            kw(r.monthPeaksW.map { max($0.peak, 2500) }.reduce(0, +) / Double(max(1, r.monthPeaksW.count)))
        })
        row("months over the slider", results.map { r in "\(r.monthPeaksW.filter { $0.peak > sliderKW * 1000 + 1 }.count)" })
        row("EV energy delivered (kWh)", results.map { kwh($0.deliveredWh) })
        row("EV energy missed (kWh)", results.map { kwh($0.missedWh) })
        row("grid import / export (kWh)", results.map { "\(kwh($0.importWh)) / \(kwh($0.exportWh))" })
        row("PV self-consumption", results.map { String(format: "%.1f %%", 100 * (pvWh - $0.exportWh) / max(1, pvWh)) })
        row("setpoint changes", results.map { "\($0.changes)" })
        row("seconds over any limit (per phase)", results.map { String(format: "%.0f", $0.secondsOver) })
        row("  of which not after a house step", results.map { String(format: "%.0f", $0.decisionSecondsOver) })
        row("worst excess (A)", results.map { String(format: "%.1f", $0.worstExcess) })
        row("run time (s)", results.map { String(format: "%.1f", $0.seconds) })
    }
}
