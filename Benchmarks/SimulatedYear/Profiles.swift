import Foundation
import Plant

/// Synthetic Belgian household profiles, deterministic from a seed: a load shaped like
/// Synergrid's residential SLP (S21: night base, morning bump, evening peak, more in
/// winter) with quarter-hour variation and appliance runs, and PV at 50.9° N with clouds.
struct Profiles: Sendable {
    let seed: UInt64
    /// PV peak power, W.
    let pvPeakW: Double
    /// Yearly household consumption, kWh (scales the shape).
    let yearlyKWh: Double
    static let voltage = 230.0

    /// A uniform number in [0, 1) from the seed and two integers (a day, a quarter…).
    func unit(_ a: Int, _ b: Int, _ c: Int = 0) -> Double {
        var g = SeededGenerator(seed: seed &+ UInt64(bitPattern: Int64(a &* 1_000_003 &+ b &* 7_919 &+ c &* 104_729)))
        return Double(g.next() >> 11) / Double(1 << 53)
    }

    static func dayOfYear(_ t: Date) -> Int { Int(t.timeIntervalSince1970 / 86_400) % 365 }

    /// SLP-like hourly shape (relative), local (Brussels ≈ UTC+1) hours.
    static let shape: [Double] = [
        0.55, 0.48, 0.45, 0.44, 0.44, 0.48, 0.65, 0.95, 1.05, 0.95, 0.90, 0.92,
        1.00, 0.95, 0.88, 0.88, 0.98, 1.25, 1.65, 1.80, 1.65, 1.40, 1.05, 0.75,
    ]

    /// Household load per grid phase, A (without the per-second noise the plant adds).
    func household(_ t: Date) -> PhaseAmperes {
        let s = t.timeIntervalSince1970
        let day = Int(s / 86_400)
        let local = (s + 3600).truncatingRemainder(dividingBy: 86_400) / 3600
        let hour = Int(local)
        let quarter = Int(s / 900)
        let doy = Double(Self.dayOfYear(t))
        let season = 1 + 0.3 * cos(2 * .pi * (doy - 15) / 365)
        // Mean of the shape is ~0.93; scale to the yearly consumption.
        let meanW = yearlyKWh * 1000 / 8760 / 0.93
        let w = meanW * Self.shape[hour] * season * (0.75 + 0.5 * unit(quarter, 1))
        var phases = PhaseAmperes(0.5, 0.3, 0.2) * w / Self.voltage
        // Appliances: a kettle most mornings (L1), cooking most evenings (L2), a washing machine some days (L3).
        let minute = local * 60
        let kettle = 6.5 * 60 + unit(day, 2) * 120
        if minute >= kettle && minute < kettle + 3 && unit(day, 3) < 0.8 { phases[0] += 2000 / Self.voltage }
        let cooking = 17.5 * 60 + unit(day, 4) * 120
        if minute >= cooking && minute < cooking + 40 && unit(day, 5) < 0.7 { phases[1] += 2500 / Self.voltage }
        let wash = 9 * 60 + unit(day, 6) * 600
        if minute >= wash && minute < wash + 25 && unit(day, 7) < 0.3 { phases[2] += 2000 / Self.voltage }
        return phases
    }

    /// PV production, W (a three-phase inverter: equal thirds, exported as negative current).
    func pv(_ t: Date) -> Double {
        let s = t.timeIntervalSince1970
        let doy = Double(Self.dayOfYear(t))
        let day = Int(s / 86_400)
        let latitude = 50.9 * .pi / 180
        let declination = 23.44 * .pi / 180 * sin(2 * .pi * (284 + doy) / 365)
        // Solar time at 4.4° E.
        let solarHours = (s / 3600 + 4.4 / 15).truncatingRemainder(dividingBy: 24)
        let hourAngle = (solarHours - 12) * 15 * .pi / 180
        let sinElevation = sin(latitude) * sin(declination) + cos(latitude) * cos(declination) * cos(hourAngle)
        guard sinElevation > 0 else { return 0 }
        // Clouds: a kind of day (winter cloudier), then quarter-hour and minute variation.
        let winter = 0.5 + 0.5 * cos(2 * .pi * (doy - 15) / 365)
        let kind = unit(day, 10)
        let quarter = Int(s / 900)
        let minute = Int(s / 60)
        let cloud: Double
        if kind < 0.30 - 0.15 * winter {
            cloud = 0.92 + 0.08 * unit(minute, 11)
        } else if kind < 0.75 - 0.1 * winter {
            cloud = unit(quarter, 12) < 0.5 ? 0.25 + 0.5 * unit(minute, 13) : 0.85 + 0.15 * unit(minute, 14)
        } else {
            cloud = 0.08 + 0.2 * unit(quarter, 15)
        }
        return pvPeakW * 0.9 * pow(sinElevation, 1.15) * cloud
    }

    func pvPhases(_ t: Date) -> PhaseAmperes { PhaseAmperes(repeating: -pv(t) / 3 / Self.voltage) }
}

/// One EV stay at home: arrival, departure, energy wanted.
struct Session: Sendable {
    var arrival: Date
    var departure: Date
    var wantedWh: Double
}

extension Profiles {
    /// Weekday evenings to the next morning; some weekend afternoons. Mostly a commute's
    /// worth (5–15 kWh), now and then a long trip (25–40 kWh).
    func sessions(from start: Date, days: Int) -> [Session] {
        var out: [Session] = []
        for d in 0..<days {
            let midnight = start.addingTimeInterval(Double(d) * 86_400)
            let dayNumber = Int(midnight.timeIntervalSince1970 / 86_400)
            let weekday = (dayNumber + 3) % 7  // 0 = Monday (1970-01-01 was a Thursday)
            let need = unit(dayNumber, 20) < 0.1 ? 25_000 + 15_000 * unit(dayNumber, 21) : 5_000 + 10_000 * unit(dayNumber, 22)
            if weekday < 5 {
                let arrival = midnight.addingTimeInterval((16.5 + 2 * unit(dayNumber, 23)) * 3600)  // UTC ≈ local − 1 h
                let departure = midnight.addingTimeInterval((30 + unit(dayNumber, 24)) * 3600)
                out.append(Session(arrival: arrival, departure: departure, wantedWh: need))
            } else if unit(dayNumber, 25) < 0.5 {
                let arrival = midnight.addingTimeInterval((12 + 3 * unit(dayNumber, 26)) * 3600)
                out.append(Session(arrival: arrival, departure: arrival.addingTimeInterval(5 * 3600), wantedWh: need * 0.7))
            }
        }
        // No overlaps: a stay ends before the next begins.
        for k in out.indices.dropLast() where out[k].departure > out[k + 1].arrival {
            out[k].departure = out[k + 1].arrival.addingTimeInterval(-600)
        }
        return out
    }
}
