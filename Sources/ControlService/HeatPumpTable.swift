import Control
import Foundation

/// The shipped compatibility table of heat pumps and water heaters (a data file, not code).
public enum HeatPumpTable {
    public static var fileURL: URL? {
        Bundle.module.url(forResource: "Resources/sg-ready-models", withExtension: "json")
            ?? Bundle.module.url(forResource: "sg-ready-models", withExtension: "json")
    }

    /// The shipped table; an unreadable table is an error (never an empty list in silence).
    public static func load() throws -> HeatPumpCatalogue {
        guard let url = fileURL else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "sg-ready-models.json is not installed"])
        }
        return try HeatPumpCatalogue.decode(try Data(contentsOf: url))
    }
}
