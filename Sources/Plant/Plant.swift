import Foundation
import PhasorCore

/// A physical site on injected time: breakers, house loads and PV, chargers with
/// their latencies and report instants, cars that follow the pilot with delays and
/// ramps, and meters that sample at their own instants.
///
/// Pure: no clock (time moves only through `advance(to:)`), no I/O, randomness from
/// the seeded generator given at creation. What every breaker carries is evaluated
/// at least every `config.step` and at every event in between (a pilot change, a car
/// reacting, a sample), so overloads between telegrams are seen and booked in
/// `ledger`.
public struct Plant: Sendable {
    public let config: PlantConfig
    public private(set) var now: Date
    public private(set) var ledger: OverloadLedger
    /// What the main connection (panel 0) imported and exported, quarter by quarter.
    public private(set) var mainEnergy: EnergyRegister
    private var rng: SeededGenerator
    private var chargers: [ChargerState]
    private var meters: [MeterState]
    private var loads: [LoadState]
    /// Per panel: the panel and every panel above it.
    private let chains: [[Int]]
    /// Per panel: min-deque of (time, uncontrolled current) per phase over the explain window.
    private var windows: [[[(time: Date, value: Double)]]]
    private var outbox: [Delivery] = []
    /// Overload tolerance, A: float noise, not an overload.
    public static let tolerance = 1e-6

    public init(config: PlantConfig, start: Date, seed: UInt64) {
        self.config = config
        self.now = start
        self.rng = SeededGenerator(seed: seed)
        self.ledger = OverloadLedger(panels: config.panels.count)
        self.mainEnergy = EnergyRegister(start: start)
        chargers = config.chargers.map { ChargerState(spec: $0, start: start) }
        meters = config.meters.map { MeterState(spec: $0, start: start) }
        loads = config.loads.map { LoadState(spec: $0, nextNoise: start) }
        chains = config.panels.indices.map { p in
            var chain: [Int] = []
            var at: Int? = p
            while let i = at {
                chain.append(i)
                at = config.panels[i].parent
            }
            return chain
        }
        windows = Array(repeating: Array(repeating: [], count: 3), count: config.panels.count)
        applyEvents()
    }

    // MARK: - Controls (what the world does to the plant)

    /// A car plugs in at `charger` now.
    public mutating func plug(charger i: Int, car: CarSpec) {
        var state = CarState(spec: car)
        state.pluggedAt = now
        chargers[i].car = state
    }

    /// The car's battery is full now: it stops drawing while plugged in (the charger says
    /// connected, not charging).
    public mutating func finishCharging(charger i: Int) {
        guard var car = chargers[i].car else { return }
        car.spec.energyWantedWh = car.energyWh
        car.draw = 0
        chargers[i].car = car
    }

    /// The car leaves now (its draw stops at once).
    public mutating func unplug(charger i: Int) { chargers[i].car = nil }

    /// The controller writes a setpoint now; the charger applies it after its write latency.
    /// A silent charger does not receive it.
    public mutating func write(charger i: Int, current: Double, phases: Int? = nil) {
        guard !chargers[i].silent else { return }
        let applyAt = now.addingTimeInterval(chargers[i].spec.writeLatency)
        chargers[i].pendingWrites.append((applyAt, current, phases ?? chargers[i].spec.phases))
        chargers[i].lastWrite = now
    }

    /// The charger stops answering (no reports, writes lost) or answers again.
    public mutating func setSilent(charger i: Int, _ silent: Bool) { chargers[i].silent = silent }

    /// Sets the constant part of load `i` (a house step: kettle, heat pump, PV cloud) from now on.
    public mutating func setLoad(_ i: Int, base: PhaseAmperes) {
        loads[i].spec.base = base
        refreshWindows()
    }

    // MARK: - Truth

    /// What every panel carries now, per grid phase, A.
    public func panelCurrents() -> [PhaseAmperes] {
        var totals = uncontrolled()
        for c in chargers {
            let grid = c.spec.wiring.toGrid(c.terminalDraw)
            for n in chains[c.spec.panel] { totals[n] += grid }
        }
        return totals
    }

    /// What loads nobody steers (house, PV) put on every panel now, per grid phase, A.
    public func uncontrolled() -> [PhaseAmperes] {
        var totals = [PhaseAmperes](repeating: .zero, count: config.panels.count)
        for l in loads {
            let own = l.current
            for n in chains[l.spec.panel] { totals[n] += own }
        }
        return totals
    }

    /// The most loads nobody steers may put on every panel now, A per grid phase: each load at
    /// the top of its noise band. The room a car "can" have is judged against this: a minimum
    /// that fits only while the noise is low would be started and stopped again by the next peak.
    public func uncontrolledPeak() -> [PhaseAmperes] {
        var totals = [PhaseAmperes](repeating: .zero, count: config.panels.count)
        for l in loads {
            let own = l.spec.base + l.profileNow + PhaseAmperes(repeating: l.spec.noise)
            for n in chains[l.spec.panel] { totals[n] += own }
        }
        return totals
    }

    /// What the car at charger `i` draws now on terminals 1-2-3, A.
    public func draw(charger i: Int) -> PhaseAmperes { chargers[i].terminalDraw }
    /// The limit charger `i` applies now, A.
    public func appliedLimit(charger i: Int) -> Double { chargers[i].pilotNow.current }
    /// A car is plugged in at charger `i`.
    public func isPlugged(charger i: Int) -> Bool { chargers[i].car != nil }
    /// The car at charger `i` wants no more energy (full, or tapered below its minimum).
    public func isFull(charger i: Int) -> Bool { chargers[i].car?.isFull ?? false }
    /// Energy charged into the car at charger `i` since it plugged in, Wh.
    public func energyCharged(charger i: Int) -> Double { chargers[i].car?.energyWh ?? 0 }
    /// The car's spec at charger `i`.
    public func car(charger i: Int) -> CarSpec? { chargers[i].car?.spec }

    /// The earliest time something is delivered (a reading, a report) after now.
    public var nextDelivery: Date {
        var t = Date.distantFuture
        for m in meters { t = min(t, m.nextSample.addingTimeInterval(m.spec.delay)) }
        for c in chargers where !c.silent { t = min(t, c.nextReport.addingTimeInterval(c.spec.reportDelay)) }
        for d in outbox { t = min(t, d.time) }
        return t
    }

    // MARK: - Time

    /// Moves the plant to `time`, integrating on steps of at most `config.step`, and
    /// returns the readings and reports delivered by then, in delivery order.
    public mutating func advance(to time: Date) -> [Delivery] {
        while now < time {
            let next = min(time, now.addingTimeInterval(config.step), nextEvent())
            integrate(until: next)
            now = next
            applyEvents()
        }
        let due = outbox.filter { $0.time <= time }.sorted { $0.time < $1.time }
        outbox.removeAll { $0.time <= time }
        return due
    }

    /// The earliest instant after now where something changes discontinuously.
    private func nextEvent() -> Date {
        var t = Date.distantFuture
        for m in meters { t = min(t, m.nextSample) }
        for l in loads where l.spec.noise > 0 { t = min(t, l.nextNoise) }
        for c in chargers {
            if !c.silent { t = min(t, c.nextReport) }
            for w in c.pendingWrites { t = min(t, w.applyAt) }
            if let car = c.car {
                let longest = max(car.spec.lowerDelay, car.spec.riseDelay)
                for p in c.pilots.reversed() {
                    if p.time.addingTimeInterval(longest) <= now { break }
                    for d in [car.spec.lowerDelay, car.spec.riseDelay] {
                        let at = p.time.addingTimeInterval(d)
                        if at > now { t = min(t, at) }
                    }
                }
            }
            if let after = c.spec.safeAfter, let last = c.lastWrite, !c.onSafe {
                t = min(t, last.addingTimeInterval(after))
            }
        }
        return t > now ? t : now.addingTimeInterval(config.step)
    }

    /// Ramps, energy and the overload ledger over [now, until).
    private mutating func integrate(until: Date) {
        let h = until.timeIntervalSince(now)
        guard h > 0 else { return }
        for i in chargers.indices { chargers[i].rampAndCharge(over: h, at: now, voltage: config.voltage) }
        // The interval is booked with the draws at its end: a rising ramp is counted at its
        // highest, drops happened at the event that starts the interval.
        let unc = uncontrolled()
        var totals = unc
        for c in chargers {
            let grid = c.spec.wiring.toGrid(c.terminalDraw)
            for n in chains[c.spec.panel] { totals[n] += grid }
        }
        for (p, panel) in config.panels.enumerated() {
            for ph in 0..<3 {
                let rise = unc[p][ph] - windowMin(panel: p, phase: ph)
                ledger.record(
                    panel: p, phase: ph, from: now, to: until, excess: totals[p][ph] - panel.limit[ph], rise: rise,
                    uncontrolledExcess: unc[p][ph] - panel.limit[ph], tolerance: Self.tolerance)
            }
        }
        for i in meters.indices {
            let power = (totals[meters[i].spec.panel] * config.voltage).sum()
            meters[i].register.accumulate(power: power, from: now, to: until)
        }
        if !totals.isEmpty { mainEnergy.accumulate(power: (totals[0] * config.voltage).sum(), from: now, to: until) }
    }

    /// Writes arriving, pilots followed, samples taken, noise redrawn: everything due at `now`.
    private mutating func applyEvents() {
        for i in loads.indices { loads[i].profileNow = loads[i].spec.profile?(now) ?? .zero }
        for i in loads.indices where loads[i].spec.noise > 0 && loads[i].nextNoise <= now {
            let n = loads[i].spec.noise
            loads[i].noise = PhaseAmperes(rng.double(-n...n), rng.double(-n...n), rng.double(-n...n))
            loads[i].nextNoise = now.addingTimeInterval(loads[i].spec.noiseHold)
        }
        for i in chargers.indices { chargers[i].react(at: now) }
        let unc = uncontrolled()
        refreshWindows(unc)
        var currents = unc
        for c in chargers {
            let grid = c.spec.wiring.toGrid(c.terminalDraw)
            for n in chains[c.spec.panel] { currents[n] += grid }
        }
        for i in meters.indices where meters[i].nextSample <= now {
            let reading = meters[i].sample(currents[meters[i].spec.panel], voltage: config.voltage, at: now)
            outbox.append(Delivery(time: now.addingTimeInterval(meters[i].spec.delay), output: .meter(reading)))
        }
        for i in chargers.indices where chargers[i].nextReport <= now {
            let c = chargers[i]
            chargers[i].nextReport = c.spec.nextInstant(after: now)
            guard !c.silent else { continue }
            let status: ChargePointStatus =
                c.car == nil ? .disconnected : (c.terminalDraw.max() > 0.5 ? .charging : .connected)
            let report = ChargerReport(
                device: c.spec.device, time: now, status: status, currents: c.terminalDraw,
                currentLimit: c.pilotNow.current)
            outbox.append(Delivery(time: now.addingTimeInterval(c.spec.reportDelay), output: .charger(report)))
        }
    }

    /// Pushes the current uncontrolled load of every panel into its explain window.
    private mutating func refreshWindows(_ unc: [PhaseAmperes]? = nil) {
        let unc = unc ?? uncontrolled()
        let horizon = now.addingTimeInterval(-config.explainWindow)
        for p in windows.indices {
            for ph in 0..<3 {
                var w = windows[p][ph]
                while let last = w.last, last.value >= unc[p][ph] { w.removeLast() }
                w.append((now, unc[p][ph]))
                // Keep the newest entry at or before the horizon: it was in force at the horizon.
                while w.count > 1 && w[1].time <= horizon { w.removeFirst() }
                windows[p][ph] = w
            }
        }
    }

    private func windowMin(panel: Int, phase: Int) -> Double { windows[panel][phase].first?.value ?? 0 }
}

extension ChargerSpec {
    /// The next report instant strictly after `t`.
    func nextInstant(after t: Date) -> Date { Self.nextInstant(after: t, period: reportPeriod, offset: reportOffset) }

    static func nextInstant(after t: Date, period: TimeInterval, offset: TimeInterval) -> Date {
        let s = t.timeIntervalSince1970
        var k = ((s - offset) / period).rounded(.down) + 1
        if k * period + offset <= s { k += 1 }
        return Date(timeIntervalSince1970: k * period + offset)
    }
}

// MARK: - State of the parts

struct LoadState: Sendable {
    var spec: LoadSpec
    var noise: PhaseAmperes = .zero
    var nextNoise: Date
    /// The profile's value at the plant's current time (profiles may be costly: evaluated once per step).
    var profileNow: PhaseAmperes = .zero
    var current: PhaseAmperes { spec.base + noise + profileNow }
}

struct CarState: Sendable {
    var spec: CarSpec
    /// Per drawing terminal, A.
    var draw = 0.0
    var phases = 0
    var energyWh = 0.0
    /// When it was plugged in (nil: before the plant's start): it reads the pilot then in force.
    var pluggedAt: Date?
    init(spec: CarSpec) { self.spec = spec }

    var remainingWh: Double? { spec.energyWantedWh.map { max(0, $0 - energyWh) } }
    /// The car's own ceiling now (the battery's taper), A; 0 once full.
    var ownMax: Double {
        guard let remaining = remainingWh else { return spec.maxCurrent }
        if remaining <= 0 { return 0 }
        guard spec.taperWh > 0, remaining < spec.taperWh else { return spec.maxCurrent }
        let tapered = spec.minCurrent + (spec.maxCurrent - spec.minCurrent) * remaining / spec.taperWh
        return tapered
    }
    var isFull: Bool { (remainingWh ?? 1) <= 0 }
}

struct ChargerState: Sendable {
    var spec: ChargerSpec
    var car: CarState?
    /// Applied limits with the time they took effect, oldest first (pruned).
    var pilots: [(time: Date, current: Double, phases: Int)]
    var pendingWrites: [(applyAt: Date, current: Double, phases: Int)] = []
    var lastWrite: Date?
    var onSafe = false
    var silent = false
    var nextReport: Date
    /// The car's target from the delayed pilots, kept between events.
    var target = 0.0

    init(spec: ChargerSpec, start: Date) {
        self.spec = spec
        pilots = [(start.addingTimeInterval(-3600), 0, spec.phases)]
        nextReport = ChargerSpec.nextInstant(after: start.addingTimeInterval(-1e-9), period: spec.reportPeriod, offset: spec.reportOffset)
    }

    var pilotNow: (time: Date, current: Double, phases: Int) { pilots[pilots.count - 1] }

    /// The pilot the car follows at `t`: a change to a lower value counts from its time plus
    /// the car's lower delay, a change to a higher one from its time plus the rise delay;
    /// of the changes that count by then, the latest one. A car plugged in reads the pilot in
    /// force then, from its rise delay on: changes from before it was there do not reach it
    /// late (a car plugged in after its charger went to 0 does not draw the limit before).
    func followedPilot(_ car: CarSpec, pluggedAt: Date?, at t: Date) -> (time: Date, current: Double, phases: Int) {
        var followed = pilots[0]
        var first = 1
        if let plugged = pluggedAt, let p = pilots.lastIndex(where: { $0.time <= plugged }) {
            followed = plugged.addingTimeInterval(car.riseDelay) <= t
                ? (plugged, pilots[p].current, pilots[p].phases) : (plugged, 0, pilots[p].phases)
            first = p + 1
        }
        for k in pilots.indices where k >= first {
            let delay = pilots[k].current < pilots[k - 1].current ? car.lowerDelay : car.riseDelay
            if pilots[k].time.addingTimeInterval(delay) <= t { followed = pilots[k] }
        }
        return followed
    }

    var terminalDraw: PhaseAmperes {
        guard let car, car.draw > 0 else { return .zero }
        var out = PhaseAmperes.zero
        for t in 0..<min(car.phases, 3) { out[t] = car.draw }
        return out
    }

    mutating func apply(current: Double, phases: Int, at t: Date) {
        if pilotNow.current != current || pilotNow.phases != phases { pilots.append((t, current, phases)) }
    }

    /// Writes that arrived, the safe-current fallback, and the car's reaction to the delayed pilot.
    mutating func react(at now: Date) {
        let due = pendingWrites.filter { $0.applyAt <= now }
        pendingWrites.removeAll { $0.applyAt <= now }
        for w in due {
            apply(current: w.current, phases: w.phases, at: w.applyAt)
            onSafe = false
        }
        if let after = spec.safeAfter, let last = lastWrite, !onSafe, now.timeIntervalSince(last) >= after {
            apply(current: spec.safeCurrent, phases: spec.phases, at: now)
            onSafe = true
        }
        guard var car else { return }
        let followed = followedPilot(car.spec, pluggedAt: car.pluggedAt, at: now)
        var t = min(followed.current, car.spec.maxCurrent, car.ownMax)
        if t < car.spec.minCurrent - 1e-9 { t = 0 }
        car.phases = min(car.spec.phases, spec.phases, followed.phases)
        if t < car.draw { car.draw = t }
        target = t
        self.car = car
        // Forget pilots no car delay can reach any more (keep the one in force then).
        let horizon = now.addingTimeInterval(-(CarSpec.maxLowerDelay * 4 + 60))
        while pilots.count > 1 && pilots[1].time <= horizon { pilots.removeFirst() }
    }

    /// Ramps towards the target and books the energy over `h` seconds.
    mutating func rampAndCharge(over h: Double, at now: Date, voltage: Double) {
        guard var car else { return }
        // The car's own ceiling falls while it charges (taper, full): it follows it at once.
        let ceiling = min(target, car.ownMax < car.spec.minCurrent - 1e-9 ? 0 : car.ownMax)
        if car.draw > ceiling { car.draw = ceiling }
        if ceiling > car.draw { car.draw = min(ceiling, car.draw + car.spec.rampRate * h) }
        car.energyWh += car.draw * Double(car.phases) * voltage * h / 3600
        self.car = car
    }
}

struct MeterState: Sendable {
    /// Built once: a name is a string, and building it per reading showed in profiles.
    static let currents = (1...3).map { Quantity.current.phase($0) }
    static let imports = (1...3).map { Quantity.powerImport.phase($0) }
    static let exports = (1...3).map { Quantity.powerExport.phase($0) }
    var spec: MeterSpec
    var nextSample: Date
    var register: EnergyRegister

    init(spec: MeterSpec, start: Date) {
        self.spec = spec
        nextSample = ChargerSpec.nextInstant(after: start.addingTimeInterval(-1e-9), period: spec.period, offset: spec.offset)
        register = EnergyRegister(start: start, keepQuarters: false)
    }

    mutating func sample(_ currents: PhaseAmperes, voltage: Double, at now: Date) -> Reading {
        nextSample = ChargerSpec.nextInstant(after: now, period: spec.period, offset: spec.offset)
        var values: [(Quantity, MeasuredValue)] = []
        values.reserveCapacity(12)
        var imp = 0.0
        var exp = 0.0
        let r = spec.currentResolution
        for p in 0..<3 {
            let power = currents[p] * voltage
            values.append((Self.currents[p], .number((abs(currents[p]) / r).rounded() * r)))
            values.append((Self.imports[p], .number(max(0, power).rounded())))
            values.append((Self.exports[p], .number(max(0, -power).rounded())))
            imp += max(0, power)
            exp += max(0, -power)
        }
        let net = imp - exp
        values.append((.powerImport, .number(max(0, net).rounded())))
        values.append((.powerExport, .number(max(0, -net).rounded())))
        if spec.quarterAverage {
            values.append(
                (.powerImportQuarterHourAverage, .number((register.quarterImportWs / EnergyRegister.quarter).rounded())))
        }
        return Reading(device: spec.device, time: MeterTimestamp(date: now, utcOffsetSeconds: 0), values: values)
    }
}

/// Import and export energy of a panel, and its quarter-hour import averages (the
/// capacity tariff's unit). Net over the phases, as a Belgian meter registers it.
public struct EnergyRegister: Sendable, Equatable {
    public static let quarter: TimeInterval = 900
    public private(set) var importWh = 0.0
    public private(set) var exportWh = 0.0
    /// Start of the running quarter and its import so far, W·s.
    public private(set) var quarterStart: Date
    public private(set) var quarterImportWs = 0.0
    /// Closed quarters: start and average import, W.
    public private(set) var closedQuarters: [(start: Date, averageW: Double)] = []
    private let keepQuarters: Bool

    public init(start: Date, keepQuarters: Bool = true) {
        quarterStart = Date(timeIntervalSince1970: (start.timeIntervalSince1970 / Self.quarter).rounded(.down) * Self.quarter)
        self.keepQuarters = keepQuarters
    }

    public static func == (a: EnergyRegister, b: EnergyRegister) -> Bool {
        a.importWh == b.importWh && a.exportWh == b.exportWh && a.quarterImportWs == b.quarterImportWs
            && a.closedQuarters.map(\.averageW) == b.closedQuarters.map(\.averageW)
    }

    mutating func accumulate(power: Double, from: Date, to: Date) {
        let dt = to.timeIntervalSince(from)
        importWh += max(0, power) * dt / 3600
        exportWh += max(0, -power) * dt / 3600
        var from = from
        while true {
            let boundary = quarterStart.addingTimeInterval(Self.quarter)
            if to <= boundary {
                quarterImportWs += max(0, power) * to.timeIntervalSince(from)
                return
            }
            quarterImportWs += max(0, power) * max(0, boundary.timeIntervalSince(from))
            if keepQuarters { closedQuarters.append((quarterStart, quarterImportWs / Self.quarter)) }
            quarterStart = boundary
            quarterImportWs = 0
            from = boundary
        }
    }
}
