import ArgumentParser
import ControlService
import PhasorService

/// phasor-control: computes setpoints and relay states from the published telemetry.
@main
struct ControlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phasor-control", abstract: "Decides charge-point setpoints and relay states from MQTT telemetry.")

    @OptionGroup var options: ServiceOptions

    @Option(name: .long, help: "Folder for control's state file (default: control.state_dir, else /var/lib/phasor as root, else ~/.local/state/phasor).")
    var stateDir: String?

    func run() async throws {
        try await ServiceRunner.run(.control, options: options) { session, logger in
            let site = session.settings.site
            let model = try ControlLoopService.model(for: site)
            let directory = ControlLoopService.stateDirectory(flag: stateDir, configured: site.control?.stateDir)
            return [ControlLoopService(
                client: session.client, topics: session.settings.topics, model: model, logger: logger,
                stateDirectory: directory)]
        }
    }
}
