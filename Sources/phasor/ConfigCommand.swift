import Bridge
import ArgumentParser
import Foundation
import Bridge
import ControlService
import Gateway
import PhasorCore
import PhasorService

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Site file commands.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validates a site file; prints one line naming file, line and field on error.")

        @Argument(help: "The site file (YAML).") var file: String

        func run() async throws {
            do {
                // The checks the services run at start, every service's: what passes here starts.
                let checked = try SiteConfiguration.load(from: file, checks: [GatewaySiteCheck(), ControlSiteCheck(), BridgeSiteCheck()] + AlertServices.checks)
                for warning in checked.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
                print("\(file): ok (site '\(checked.site.site)')")
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
    }
}
