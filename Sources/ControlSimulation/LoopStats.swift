import Control
import Foundation
import Plant

/// What the closed loop did, measured on the plant's truth.
public struct LoopStats: Sendable {
    public struct Change: Sendable, Equatable {
        public var time: Date
        public var point: Int
        public var from: Double
        public var to: Double
        public var reason: SetpointReason
    }

    public struct Stop: Sendable, Equatable {
        public var time: Date
        public var point: Int
        /// Seconds since the start it ends.
        public var ranFor: TimeInterval
        public var reason: SetpointReason
    }

    /// Every change of a decided current (phases included), in time order.
    public private(set) var changes: [Change] = []
    public private(set) var starts: [(time: Date, point: Int)] = []
    public private(set) var stops: [Stop] = []
    public private(set) var decisions = 0
    /// ∫ what wanting cars drew, A·s summed over grid phases.
    public private(set) var usedAmpereSeconds = 0.0
    /// ∫ what the max-min fair oracle could have given them on the true loads, A·s.
    public private(set) var availableAmpereSeconds = 0.0
    /// Per point: seconds it waited (plugged, wanting, automatic, setpoint 0) while its
    /// minimum fitted beside every running car at its minimum, on the true loads.
    public private(set) var waitedWhileFitting: [Double]
    /// Per point: the longest such wait in one stretch, s.
    public private(set) var longestWaitWhileFitting: [Double]
    /// The plant's overload ledger at the end of the run.
    public private(set) var ledger: OverloadLedger?

    private let model: SiteModel
    private let start: Date
    private var last: Date
    private var setpoints: [Double]
    private var phases: [Int]
    private var runningSince: [Date?]
    private var waitStart: [Date?]
    /// Since when each wanting car has been without current (the order waiting cars fit in).
    private var waitingSince: [Date?]
    private var fitting: [Bool]
    private var used = 0.0
    private var available = 0.0

    init(model: SiteModel, start: Date) {
        self.model = model
        self.start = start
        self.last = start
        let n = model.chargePoints.count
        setpoints = Array(repeating: 0, count: n)
        phases = model.chargePoints.map(\.phases)
        runningSince = Array(repeating: nil, count: n)
        waitStart = Array(repeating: nil, count: n)
        waitingSince = Array(repeating: nil, count: n)
        fitting = Array(repeating: false, count: n)
        waitedWhileFitting = Array(repeating: 0, count: n)
        longestWaitWhileFitting = Array(repeating: 0, count: n)
    }

    /// The share of the room the fair oracle saw that the cars used (1 = all of it).
    public var roomUsed: Double { availableAmpereSeconds > 0 ? usedAmpereSeconds / availableAmpereSeconds : 1 }

    /// Changes at or after `from` (and before `to`).
    public func changes(from: Date, to: Date = .distantFuture) -> [Change] {
        changes.filter { $0.time >= from && $0.time < to }
    }

    /// Per charge point (configuration order): changes at or after `from` (and before `to`).
    public func changesPerPoint(from: Date = .distantPast, to: Date = .distantFuture) -> [Int] {
        var counts = [Int](repeating: 0, count: model.chargePoints.count)
        for c in changes where c.time >= from && c.time < to { counts[c.point] += 1 }
        return counts
    }

    /// Stops that ended a run shorter than `seconds`, the car still plugged in.
    public func shortRuns(under seconds: TimeInterval) -> [Stop] {
        stops.filter { $0.ranFor < seconds && $0.reason != .noCar && $0.reason != .modeOff }
    }

    mutating func record(_ d: Decision, at now: Date, plant: Plant) {
        decisions += 1
        integrate(to: now)
        for (i, sp) in d.setpoints.enumerated() {
            if sp.current != setpoints[i] || (sp.current > 0 && sp.phases != phases[i]) {
                changes.append(Change(time: now, point: i, from: setpoints[i], to: sp.current, reason: sp.reason))
            }
            if setpoints[i] == 0 && sp.current > 0 {
                starts.append((now, i))
                runningSince[i] = now
            } else if setpoints[i] > 0 && sp.current == 0 {
                stops.append(Stop(time: now, point: i, ranFor: now.timeIntervalSince(runningSince[i] ?? start), reason: sp.reason))
                runningSince[i] = nil
            }
            setpoints[i] = sp.current
            phases[i] = sp.phases
        }
        snapshot(plant: plant, settings: d)
    }

    mutating func finish(at now: Date, plant: Plant) {
        integrate(to: now)
        ledger = plant.ledger
    }

    /// Books the rates measured at the last record over the time since.
    private mutating func integrate(to now: Date) {
        let dt = now.timeIntervalSince(last)
        guard dt > 0 else { return }
        usedAmpereSeconds += used * dt
        availableAmpereSeconds += available * dt
        for i in fitting.indices {
            if fitting[i] {
                waitedWhileFitting[i] += dt
                let since = waitStart[i] ?? last
                waitStart[i] = since
                longestWaitWhileFitting[i] = max(longestWaitWhileFitting[i], now.timeIntervalSince(since))
            } else {
                waitStart[i] = nil
            }
        }
        last = now
    }

    /// The rates that hold until the next record: what wanting cars draw, what the oracle
    /// would give them, and which waiting cars' minimums fit.
    private mutating func snapshot(plant: Plant, settings d: Decision) {
        let currents = plant.uncontrolled()
        var room = model.nodes.enumerated().map { n, node in node.limit - currents[n] }
        var wanting: [Int] = []
        var cars: [FairShare.Car] = []
        for (i, cp) in model.chargePoints.enumerated() {
            // Charge points on safe currents are load nobody steers.
            if d.setpoints[i].reason == .chargerOffline || d.setpoints[i].reason == .chargerOfflineNoRoom {
                let grid = TerminalWiring(rotation: cp.rotation).toGrid(plant.draw(charger: i))
                for n in cp.ancestors { room[n] -= grid }
                continue
            }
            guard let car = plant.car(charger: i), !plant.isFull(charger: i) else { continue }
            let phases = min(car.phases, cp.phases)
            wanting.append(i)
            cars.append(
                FairShare.Car(
                    chain: cp.ancestors, mask: cp.rotation.gridMask(phases: phases),
                    maximum: min(cp.maxCurrent, car.maxCurrent)))
        }
        let fair = FairShare.allocate(cars: cars, room: room)
        used = 0
        available = 0
        for (k, i) in wanting.enumerated() {
            used += plant.draw(charger: i).sum()
            available += fair[k] * cars[k].mask.sum()
        }
        // Minimums that fit: every running car at its minimum, plus this one, with the house at
        // the top of its noise band.
        // (`room` already counts the chargers on safe currents; the peak replaces the house now.)
        let peak = plant.uncontrolledPeak()
        var atMinimum = room.indices.map { n in room[n] - (peak[n] - currents[n]) }
        // A full car is found only by trying it: until control has seen it draw nothing (for
        // `idle_seconds` after a start), it queues and holds its minimum like any other car.
        // So a car queued behind one waits, in this judgement, for that finding too.
        let untried = model.chargePoints.indices.filter { i in
            guard plant.car(charger: i) != nil, plant.isFull(charger: i) else { return false }
            if case .notDrawing = d.setpoints[i].reason { return false }
            return true
        }
        let queued = (wanting + untried).sorted()
        for i in queued where setpoints[i] > 0 {
            let cp = model.chargePoints[i]
            let mask = cp.rotation.gridMask(phases: min(plant.car(charger: i)!.phases, cp.phases))
            for n in cp.ancestors { atMinimum[n] -= mask * cp.minCurrent }
        }
        fitting = Array(repeating: false, count: model.chargePoints.count)
        // Waiting cars are judged together, first come first served: a car fits if its minimum
        // fits beside the running cars' and those of the waiting cars ahead of it that fit. Two
        // that each fit alone but not together cannot both start; the second takes turns.
        // (Waiting since control knew it plugged in, from its charger's report, and without
        // current: two cars plugged in within a report period are queued as the reports tell.)
        for i in model.chargePoints.indices {
            let known = d.setpoints[i].reason != .noCar
            waitingSince[i] = queued.contains(i) && setpoints[i] == 0 && known ? (waitingSince[i] ?? last) : nil
        }
        let waiting = queued.filter { setpoints[$0] == 0 }.sorted {
            (waitingSince[$0] ?? .distantFuture, $0) < (waitingSince[$1] ?? .distantFuture, $1)
        }
        for i in waiting {
            let cp = model.chargePoints[i]
            guard cp.mode == .automatic || cp.mode == .manual else { continue }
            // On the phases control must assume (the charger's, until the car has shown it uses
            // fewer), with the breaker margin control keeps free and the hysteresis: control takes
            // a fall of the house smaller than that for noise, as it does for raises (a minimum that
            // fits by less than that may wait until the house moves).
            let need = cp.rotation.gridMask(phases: d.setpoints[i].phases) * (cp.minCurrent + cp.startBuffer)
            func fits(margin: Double) -> Bool {
                cp.ancestors.allSatisfy { n in
                    (0..<3).allSatisfy { need[$0] == 0 || atMinimum[n][$0] >= need[$0] + margin - 1e-9 }
                }
            }
            // A car ahead that fits by control's own rule (the breaker margin, without the
            // hysteresis) may be started first, and its room is gone for the cars behind it.
            let fitsStrictly = fits(margin: model.timing.breakerMarginA + model.timing.hysteresisA)
            if fits(margin: model.timing.breakerMarginA) {
                let minimum = cp.rotation.gridMask(phases: d.setpoints[i].phases) * cp.minCurrent
                for n in cp.ancestors { atMinimum[n] -= minimum }
            }
            // Only a car that wants current is judged on its wait.
            fitting[i] = fitsStrictly && !untried.contains(i)
        }
    }
}
