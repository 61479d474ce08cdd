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
        let settings: [MeterSettings]
        do { settings = try MeterSettings.resolve(try options.merged(into: meters)) } catch let error as MeterSettingsError {
            throw ValidationError(error.description)
        }
        return try settings.map { try MeterService(settings: $0, publisher: publisher, logger: logger) }
    }
}
