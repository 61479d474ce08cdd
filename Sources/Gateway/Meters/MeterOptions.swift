import ArgumentParser
import PhasorCore

/// Quick-start meter flags of phasor-gateway, no site file needed:
/// `--p1 /dev/ttyUSB0`, `--p1 tcp://dongle:8088`, `--tic /dev/ttyAMA0 --tic2 /dev/ttyUSB1`.
/// A flag replaces the source of the site file's meter with the same id (`p1`,
/// `tic1`, `tic2`) or adds that meter.
public struct MeterOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "P1 meter (id p1): /dev/ttyUSB0, tcp://host:port or file:///path.")
    public var p1: String?

    @Option(name: .customLong("p1-split-port"), help: "Stream every raw P1 telegram to TCP clients on this port.")
    public var p1SplitPort: Int?

    @Option(name: .customLong("p1-split-bind"), help: "Address the P1 split listens on (default 127.0.0.1; 0.0.0.0 = every interface).")
    public var p1SplitBind: String?

    @Option(name: .long, help: "TIC meter (id tic1): /dev/ttyAMA0, tcp://host:port or file:///path.")
    public var tic: String?

    @Option(name: .long, help: "Second TIC meter (id tic2).")
    public var tic2: String?

    @Option(name: .customLong("tic-mode"), help: "TIC baud rate for --tic/--tic2: auto (1200), historique or standard (9600).")
    public var ticMode: String?

    public init() {}

    /// The site file's meters with the flags applied.
    public func merged(into fileMeters: [MeterConfiguration]) throws -> [MeterConfiguration] {
        var meters = fileMeters
        let mode = try ticMode.map { text -> MeterConfiguration.TICModeSetting in
            guard let m = MeterConfiguration.TICModeSetting(rawValue: text) else {
                throw ValidationError("--tic-mode '\(text)': use auto, historique or standard")
            }
            return m
        }
        func apply(_ id: String, _ kind: MeterConfiguration.Kind, _ source: String?) {
            guard let source else { return }
            var meter = meters.first(where: { $0.id == id }) ?? MeterConfiguration(id: id, type: kind, source: source)
            meter.source = source
            if kind == .tic, let mode { meter.ticMode = mode }
            if kind == .p1, let port = p1SplitPort { meter.splitPort = port }
            if kind == .p1, let bind = p1SplitBind { meter.splitBind = bind }
            meters.removeAll { $0.id == id }
            meters.append(meter)
        }
        apply("p1", .p1, p1)
        apply("tic1", .tic, tic)
        apply("tic2", .tic, tic2)
        if p1SplitPort != nil, p1 == nil { throw ValidationError("--p1-split-port needs --p1") }
        if p1SplitBind != nil, p1SplitPort == nil { throw ValidationError("--p1-split-bind needs --p1-split-port") }
        return meters
    }
}
