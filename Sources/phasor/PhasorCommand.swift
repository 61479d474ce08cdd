import ArgumentParser

/// `phasor`: the operator's and installer's tool.
@main
struct PhasorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phasor",
        abstract: "Phasor operator tool: check a site file, run the demo site, simulate a site file's devices, test a device, list profiles, manage the licence.",
        subcommands: [ConfigCommand.self, DemoCommand.self, SimulateCommand.self, DeviceCommand.self, ProfilesCommand.self,
                      PulsesCommand.self, HeatPumpsCommand.self, LicenceCommand.self])
}
