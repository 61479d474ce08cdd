import ArgumentParser
import Control
import ControlService
import Foundation
import Modbus

/// `phasor heat-pumps`: the shipped compatibility table of SG-Ready heat pumps and
/// water heaters with a PV contact, and where the module's relays go.
struct HeatPumpsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heat-pumps",
        abstract: "Lists the heat pumps (SG-Ready) and water heaters (PV contact) a site file may name as `model:`.")

    @Flag(help: "Print the table as JSON (the data file itself).") var json = false

    func run() async throws {
        let catalogue: HeatPumpCatalogue
        do {
            catalogue = try HeatPumpTable.load()
        } catch {
            FileHandle.standardError.write(Data("error: the compatibility table cannot be read: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(catalogue), as: UTF8.self))
            return
        }
        var table = TextTable(header: ["id", "kind", "brand", "model", "relay 1", "relay 2", "regimes", "checked"])
        for m in catalogue.models {
            let regimes = (m.regimes ?? (m.kind == .heatPump ? HeatPumpRegime.allCases : [])).map(\.name).joined(separator: ",")
            table.add([m.id, m.kind.rawValue, m.brand, m.model, m.relay1 + (m.kind == .heatPump ? " (SG0)" : ""),
                       m.relay2.map { $0 + " (SG1)" } ?? "-", regimes.isEmpty ? "-" : regimes, m.checked ? "yes" : "no"])
        }
        print(table.render())
        print("Relay 1 = SG0, relay 2 = SG1: Off 1:0, Normal 0:0, Comfort 0:1, Boost 1:1 (SG-Ready label; docs/house.md).")
        if catalogue.models.contains(where: { !$0.checked }) {
            print("Lines with checked = no are not yet verified against the manufacturer's manual: check the terminals on site.")
        }
    }
}
