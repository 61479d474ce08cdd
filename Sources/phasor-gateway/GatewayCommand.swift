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

    func run() async throws {
        try await ServiceRunner.run(.gateway, options: options) { session, logger in
            let publisher = ReadingPublisher(client: session.client, topics: session.settings.topics)
            let modbusSection = try modbus.section(arguments: CommandLine.arguments) ?? session.settings.site.modbus
            let devices = try ModbusGateway.services(modbusSection, client: session.client, topics: session.settings.topics, logger: logger)
                + PulseGateway.services(session.settings.site.pulses, publisher: publisher, logger: logger)
            // Until the site file (or the command line) declares devices, the gateway runs the demo meter.
            return devices.isEmpty ? [DemoMeterService(publisher: publisher, logger: logger)] : devices
        }
    }
}
