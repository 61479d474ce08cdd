import ArgumentParser

/// `phasor`: the operator's and installer's tool.
@main
struct PhasorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phasor",
        abstract: "Phasor operator tool: check a site file, run the demo site, test a device, list profiles.",
        subcommands: [ConfigCommand.self, DemoCommand.self, DeviceCommand.self, ProfilesCommand.self, PulsesCommand.self])
}
