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
    @OptionGroup(title: "Modbus quick start") var modbus: ModbusQuickStartOptions
    @OptionGroup var meters: MeterOptions

    func run() async throws {
        try await ServiceRunner.run(.gateway, options: options) { session, logger in
            let publisher = ReadingPublisher(client: session.client, topics: session.settings.topics)
            let topics = session.settings.topics
            let modbusSection = try modbus.section(arguments: CommandLine.arguments) ?? session.settings.site.modbus
            let services = try MeterServices.make(
                meters: session.settings.site.meters ?? [], options: meters, publisher: publisher, logger: logger)
                + ModbusGateway.services(modbusSection, client: session.client, topics: topics, logger: logger)
                + PulseGateway.services(session.settings.site.pulses, publisher: publisher, logger: logger)
            // Until the site file (or the command line) declares meters or devices, the gateway runs the demo meter.
            return services.isEmpty ? [DemoMeterService(publisher: publisher, logger: logger)] : services
        }
    }
}
