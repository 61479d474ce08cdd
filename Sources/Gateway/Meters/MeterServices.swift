import ArgumentParser
import Logging
import PhasorCore
import ServiceLifecycle

/// Builds the gateway's meter services from the site file and the flags.
public enum MeterServices {
    /// One `MeterService` per meter; empty when neither file nor flags name one
    /// (the gateway then runs the demo meter).
    public static func make(meters: [MeterConfiguration], options: MeterOptions, publisher: ReadingPublisher,
                            logger: Logger) throws -> [MeterService] {
        let all = try options.merged(into: meters)
        var seen: Set<String> = []
        return try all.map { config in
            guard seen.insert(config.id).inserted else { throw ValidationError("meter '\(config.id)': id given twice") }
            let settings: MeterSettings
            do { settings = try MeterSettings(config) } catch { throw ValidationError("\(error)") }
            return try MeterService(settings: settings, publisher: publisher, logger: logger)
        }
    }
}
