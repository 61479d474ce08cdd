import ArgumentParser
import ControlService
import PhasorService

/// phasor-control: computes setpoints and relay states from the published telemetry.
@main
struct ControlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phasor-control", abstract: "Decides charge-point setpoints and relay states from MQTT telemetry.")

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner.run(.control, options: options) { session, logger in
            let slider = session.settings.site.control?.sliderKw ?? 5.0
            return [ControlLoopService(client: session.client, topics: session.settings.topics, sliderKw: slider, logger: logger)]
        }
    }
}
