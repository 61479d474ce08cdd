import Control
import Foundation
import Logging
import PhasorCore
import Testing

@testable import ControlService

/// The state file and what a restarted control makes of it, without a broker.
@Suite struct ControlPersistenceTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("control-persist-\(UUID().uuidString.prefix(8))")
    let logger = Logger(label: "persist-test")

    func model(_ yaml: String) throws -> SiteModel { try SiteModel.load(yaml: yaml) }

    @Test func theFileRoundTripsExactlyAndIsReplacedWhole() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = StateFile(directory: directory.path, site: "home")
        var state = ControlState(model: try model(ControlHarness.siteYAML))
        state.budget.quarterEnergy = 123.456789
        state.budget.monthPeak = 6912.5
        state.budget.quarterStart = Date(timeIntervalSince1970: 1_800_000_000.123456)
        state.settings.modes["cp2"] = .solar
        let document = StateDocument(format: StateDocument.currentFormat, savedAt: Date(timeIntervalSince1970: 1_800_000_001), state: state)
        try file.save(document)
        #expect(try file.load() == document)
        state.budget.quarterEnergy = 200
        try file.save(StateDocument(format: StateDocument.currentFormat, savedAt: document.savedAt, state: state))
        #expect(try file.load()?.state.budget.quarterEnergy == 200)
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["control-home.json"])
    }

    /// The house's state (heat-pump Off accounting, overrides) is kept beside control's;
    /// a file written before it had one still loads.
    @Test func theHouseStateRoundTripsAndOlderFilesStillLoad() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = StateFile(directory: directory.path, site: "home")
        let state = ControlState(model: try model(ControlHarness.siteYAML))
        let t = Date(timeIntervalSince1970: 1_800_000_000.5)
        var house = HouseState(heatPump: HeatPumpRegimeMachine(regime: .off, since: t))
        house.overrides["boiler"] = HouseOverride(value: "on", until: t + 600)
        let document = StateDocument(format: StateDocument.currentFormat, savedAt: t, state: state, house: house)
        try file.save(document)
        #expect(try file.load() == document)
        try file.save(StateDocument(format: StateDocument.currentFormat, savedAt: t, state: state))
        #expect(try file.load()?.house == nil)
    }

    @Test func anUnreadableFileIsMovedAsideAndControlStartsFresh() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = StateFile(directory: directory.path, site: "home")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("{ not json".utf8).write(to: file.url)
        #expect(StateSaver.load(file: file, logger: logger) == nil)
        #expect(!FileManager.default.fileExists(atPath: file.url.path))
        #expect(FileManager.default.fileExists(atPath: file.url.path + ".unreadable"))
    }

    @Test func aRestoredStateFollowsTheConfiguredChargePoints() throws {
        let before = try model(ControlHarness.siteYAML)
        var saved = ControlState(model: before)
        saved.settings.sliderKW = 7
        saved.settings.modes["cp1"] = .manual
        saved.settings.manualCurrents["cp1"] = 16
        saved.settings.priorities["cp2"] = 4
        saved.budget.monthPeak = 5000
        saved.sessions["cp1"]?.setpoint = 12
        // cp2 removed, cp1's maximum lowered to 10 A, cp3 added.
        let after = try model("""
            site:
              id: main
              current_limit: 20
              meter: grid
              charge_points:
                - {id: cp1, max_current: 10}
                - {id: cp3, max_current: 16, priority: 2}
            """)
        let restored = RestoredState.merge(saved: saved, model: after)
        #expect(restored.settings.sliderKW == 7)
        #expect(restored.budget.monthPeak == 5000)
        #expect(restored.settings.modes["cp1"] == .manual)
        #expect(restored.settings.manualCurrents["cp1"] == nil, "16 A is outside cp1's new 6…10 A")
        #expect(restored.sessions["cp1"]?.setpoint == 12)
        #expect(restored.settings.modes["cp2"] == nil && restored.sessions["cp2"] == nil)
        #expect(restored.settings.priorities["cp3"] == 2)
    }

    @Test func theStateFolderIsTheFlagThenTheSiteFileThenTheDefault() {
        #expect(StateDirectory.resolve(flag: "/a", configured: "/b") == "/a")
        #expect(StateDirectory.resolve(flag: nil, configured: "/b") == "/b")
        let fallback = StateDirectory.resolve(flag: nil, configured: nil, environment: ["XDG_STATE_HOME": "/x", "HOME": "/h"])
        #expect(fallback == (geteuid() == 0 ? "/var/lib/phasor" : "/x/phasor"))
    }
}
