import ArgumentParser
import Gateway
import PhasorCore
import PhasorService

/// phasor-gateway: reads the site's meters and devices and publishes every measurement.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phasor-gateway", abstract: "Reads meters and devices; publishes every measurement on MQTT.")

    @OptionGroup var options: ServiceOptions
    @OptionGroup var meters: MeterOptions

    func run() async throws {
        try await ServiceRunner.run(.gateway, options: options) { session, logger in
            let publisher = ReadingPublisher(client: session.client, topics: session.settings.topics)
            let meterServices = try MeterServices.make(
                meters: session.settings.site.meters ?? [], options: meters, publisher: publisher, logger: logger)
            // Without meters in the site file or flags, the gateway runs the demo meter.
            return meterServices.isEmpty ? [DemoMeterService(publisher: publisher, logger: logger)] : meterServices
        }
    }
}
