import Foundation
import PhasorCore

/// A `WallClock` reading as an `InstantProtocol`, so the TIC link monitor (generic
/// over instants) runs on the gateway's injected clock and tests move it by hand.
struct WallInstant: InstantProtocol {
    var date: Date

    init(_ date: Date) { self.date = date }

    func advanced(by duration: Duration) -> WallInstant {
        let c = duration.components
        return WallInstant(date + Double(c.seconds) + Double(c.attoseconds) * 1e-18)
    }

    func duration(to other: WallInstant) -> Duration {
        .milliseconds(Int64((other.date.timeIntervalSince(date) * 1000).rounded()))
    }

    static func < (a: WallInstant, b: WallInstant) -> Bool { a.date < b.date }
}
