import Foundation
import Modbus
import PhasorCore

/// A simulated charge point with an optional car: it draws the current the
/// energy manager allows, on the phases the car and the phase switch allow, and
/// falls back to the safe current when its watchdog is not fed in time.
public struct ChargerModel: Sendable, Hashable {
    public struct Vehicle: Sendable, Hashable {
        public var phases: Int
        public var maxCurrent: Double
        /// How the car follows a new limit; `nil`: at once.
        public var response: Response?
        public init(phases: Int, maxCurrent: Double = 32, response: Response? = nil) {
            self.phases = min(3, max(1, phases))
            self.maxCurrent = maxCurrent
            self.response = response
        }
    }

    /// A car's reaction to a new limit, as the plant simulator models it (docs/plant.md):
    /// it keeps its draw for `lowerDelay` before dropping to a lower limit (IEC 61851-1
    /// allows up to 5 s), and after `riseDelay` ramps to a higher one at `rampRate` A/s.
    public struct Response: Sendable, Hashable {
        public var lowerDelay: TimeInterval
        public var riseDelay: TimeInterval
        public var rampRate: Double
        /// The car of the "control on a real site" trial: a second and a half to lower, a second
        /// before it rises, 5 A/s up.
        public static let typical = Response(lowerDelay: 1.5, riseDelay: 1, rampRate: 5)

        public init(lowerDelay: TimeInterval, riseDelay: TimeInterval, rampRate: Double) {
            self.lowerDelay = lowerDelay
            self.riseDelay = riseDelay
            self.rampRate = rampRate
        }
    }

    public let spec: ChargerSpec
    public var vehicle: Vehicle?
    /// The last current limit the energy manager wrote (A).
    public var setpoint: Double
    public var enabled = true
    public var requestedPhases = 3
    public var fault = false
    public var lastFeed: Date
    public var sessionEnergyWh = 0.0
    public var lifetimeEnergyWh = 7_654_321.0
    /// What the car drew when the limit last changed, and when (for `Vehicle.response`).
    var drawBeforeChange = 0.0
    var changedAt = Date.distantPast

    init(spec: ChargerSpec, now: Date) {
        self.spec = spec
        setpoint = spec.safeCurrent
        lastFeed = now
    }

    public func watchdogLapsed(at now: Date) -> Bool {
        guard let watchdog = spec.watchdog else { return false }
        return now.timeIntervalSince(lastFeed) > watchdog.timeoutS
    }

    /// The limit in force: the setpoint, or the safe current once the watchdog lapsed.
    public func appliedLimit(at now: Date) -> Double {
        guard enabled else { return 0 }
        return watchdogLapsed(at: now) ? spec.safeCurrent : setpoint
    }

    public func phasesInUse(at now: Date) -> Int {
        guard let vehicle, chargingCurrent(at: now) > 0 else { return 0 }
        return min(vehicle.phases, requestedPhases, spec.phases ?? 3)
    }

    /// Current per active phase (A); a car cannot draw less than the minimum current.
    public func chargingCurrent(at now: Date) -> Double {
        guard let vehicle, !fault else { return 0 }
        let limit = appliedLimit(at: now)
        let target = limit >= spec.minCurrent ? min(limit, vehicle.maxCurrent) : 0
        guard let response = vehicle.response, target != drawBeforeChange else { return target }
        let since = now.timeIntervalSince(changedAt)
        if target < drawBeforeChange { return since < response.lowerDelay ? drawBeforeChange : target }
        guard since >= response.riseDelay else { return drawBeforeChange }
        return min(target, drawBeforeChange + response.rampRate * (since - response.riseDelay))
    }

    /// A write changed what the car may draw: it follows from what it drew a moment before.
    mutating func limitChanged(drawing before: Double, at now: Date) {
        drawBeforeChange = before
        changedAt = now
    }

    public func state(at now: Date) -> ChargerState {
        if fault { return .error }
        guard vehicle != nil else { return .disconnected }
        return chargingCurrent(at: now) > 0 ? .charging : .connected
    }

    func values(at now: Date) -> [Quantity: Double] {
        let phases = phasesInUse(at: now)
        let current = chargingCurrent(at: now)
        var v: [Quantity: Double] = [:]
        for phase in 1...3 {
            v[Quantity.current.phase(phase)] = phase <= phases ? current : 0
            v[Quantity.voltage.phase(phase)] = 230
        }
        v[.power] = 230 * current * Double(phases)
        v[.energyImport] = lifetimeEnergyWh / 1000
        v[.sessionEnergy] = sessionEnergyWh / 1000
        return v
    }
}
