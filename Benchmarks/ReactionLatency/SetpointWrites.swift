import DeviceSimulators
import Foundation
import Modbus
import PhasorCore

/// The current limits written to the simulated chargers, with the instant each write
/// request reached the simulator's server loop. Only writes that change a charger's
/// current limit count: the gateway's watchdog rewrites and setup writes do not.
final class SetpointWrites: Sendable {
    struct Write: Sendable {
        var charger: Int
        var current: Double
        var received: ContinuousClock.Instant
    }

    private let writes = Locked<[Write]>([])
    private let lastValue = Locked<[Int: Double]>([:])

    func observe(_ simulator: ModbusSimulator, charger index: Int) {
        simulator.observeWrites { [self] event in
            guard let current = simulator.charger(unitID: event.unitID)?.setpoint else { return }
            let changed = lastValue.withLock { last in
                defer { last[index] = current }
                return last[index] != current
            }
            if changed { writes.withLock { $0.append(Write(charger: index, current: current, received: event.received)) } }
        }
    }

    /// The first changing write of each charger at or after `instant`.
    func firstWrites(after instant: ContinuousClock.Instant) -> [Int: Write] {
        writes.withLock { all in
            var first: [Int: Write] = [:]
            for write in all where write.received >= instant && first[write.charger] == nil { first[write.charger] = write }
            return first
        }
    }
}
