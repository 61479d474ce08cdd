import ArgumentParser
import Foundation
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
                let site = try SiteConfiguration.load(from: file)
                // Values the gateway checks at start (source URLs, keys, ranges): refuse them here too.
                do { _ = try MeterSettings.resolve(site.meters ?? []) } catch {
                    throw ConfigError(file: file, line: nil, field: "meters", message: error.description)
                }
                print("\(file): ok (site '\(site.site)')")
            } catch let error as ConfigError {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
    }
}
