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

    @Flag(name: .long, help: "Without a control: section, run the demo tree (main 25 A, cp1, cp2). Never on a real site.")
    var demo = false

    func run() async throws {
        try await ServiceRunner.run(.control, options: options, checks: [ControlSiteCheck()], demo: demo) { session, logger in
            let site = session.settings.site
            let model = try ControlLoopService.model(for: site, demo: demo, file: options.config, logger: logger)
            let directory = ControlLoopService.stateDirectory(flag: stateDir, configured: site.control?.stateDir)
            let loop = ControlLoopService(
                client: session.client, topics: session.settings.topics, model: model, logger: logger,
                stateDirectory: directory)
            return [loop] + ControlLoopService.discovery(session: session, model: model, logger: logger)
        }
    }
}
