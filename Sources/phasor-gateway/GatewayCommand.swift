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

    func run() async throws {
        try await ServiceRunner.run(.gateway, options: options) { session, logger in
            let publisher = ReadingPublisher(client: session.client, topics: session.settings.topics)
            // Until the site file declares meters, the gateway runs the demo meter.
            return [DemoMeterService(publisher: publisher, logger: logger)]
        }
    }
}
