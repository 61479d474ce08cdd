import ArgumentParser
import Bridge
import PhasorService

/// phasor-bridge: the site's link to the outside world: alerts, cloud, licences.
@main
struct BridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phasor-bridge", abstract: "Alerts, cloud sync and licences for a Phasor site.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(.bridge, options: options, checks: [BridgeSiteCheck()] + AlertServices.checks) { session, logger in
            try BridgeServices.make(session: session, logger: logger)
        }
    }
}
