import ArgumentParser
import Gateway
import PhasorCore
import PhasorService
import ServiceLifecycle

/// phasor-gateway: reads the site's meters and devices and publishes every measurement.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phasor-gateway", abstract: "Reads meters and devices; publishes every measurement on MQTT.")

    @OptionGroup var options: ServiceOptions
    @OptionGroup(title: "Modbus quick start") var modbus: ModbusQuickStartOptions
    @OptionGroup var meters: MeterOptions

    @Flag(name: .long, help: "With no meters or devices configured, publish the simulated demo meter 'grid'. Never on a real site.")
    var demo = false

    func run() async throws {
        try await ServiceRunner.run(.gateway, options: options, checks: [GatewaySiteCheck()], demo: demo) { session, logger in
            let topics = session.settings.topics
            let modbusSection = try modbus.section(arguments: CommandLine.arguments) ?? session.settings.site.modbus
            // The meters of the file and of the quick-start flags (--p1, --tic), for discovery.
            var site = session.settings.site
            site.meters = (try? meters.merged(into: site.meters ?? [])) ?? site.meters
            // Home Assistant discovery of every device the gateway owns (docs/home-assistant.md).
            let announcer = session.discoveryPublisher(
                configured: GatewayDiscovery.deviceIDs(site: site, modbus: modbusSection, demo: demo), logger: logger)
            let discovery = announcer.map {
                GatewayDiscovery(publisher: $0, topics: topics, site: site, modbus: modbusSection, demo: demo)
            }
            let publisher = ReadingPublisher(client: session.client, topics: topics, discovery: discovery)
            let services = try MeterServices.make(
                meters: session.settings.site.meters ?? [], options: meters, publisher: publisher, logger: logger)
                + ModbusGateway.services(modbusSection, client: session.client, topics: topics, discovery: discovery,
                                         logger: logger)
                + PulseGateway.services(session.settings.site.pulses, publisher: publisher, logger: logger)
            let announcing: [any Service] = announcer.map { [$0] } ?? []
            if !services.isEmpty { return services + announcing }
            // Nothing to read: the demo meter only when asked for; otherwise say what is missing and exit 2.
            guard demo else {
                throw ConfigError(
                    file: options.config ?? "command line", line: nil, field: "meters",
                    message: "nothing to read: no meters:, modbus: devices or pulses: inputs in the site file and no "
                        + "--p1, --tic or --modbus flag (--demo publishes a simulated meter instead)")
            }
            logger.warning("publishing the DEMO meter (--demo): simulated readings, not for a real site")
            return [DemoMeterService(publisher: publisher, logger: logger)] + announcing
        }
    }
}
