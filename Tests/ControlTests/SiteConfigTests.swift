import Foundation
import PhasorCore
import Testing

@testable import Control

/// The site model as the installer writes it: defaults, the tree, and the refusals.
@Suite struct SiteConfigTests {
    static let sample = """
        preset: residential
        budget:
          slider_kw: 6
          margin_kw: 0.3
        timing:
          min_run_seconds: 300
        site:
          id: main
          current_limit: 40
          power_limit_kw: 17
          meter: p1
          charge_points:
            - id: drive
              max_current: 16
              rotation: L2L3L1
          panels:
            - id: garage
              current_limit: [32, 32, 25]
              meter: garage_meter
              meter_timeout_seconds: 15
              panels:
                - id: carport
                  current_limit: 25
                  meter: virtual
                  charge_points:
                    - id: cp1
                      max_current: 32
                      phase_switching: true
                    - id: cp2
                      max_current: 32
                      rotation: L3L1L2
                      phases: 1
                      mode: solar
                      priority: 2
        """

    @Test func theSampleSiteDecodesWithItsDefaults() throws {
        let model = try SiteModel.load(yaml: Self.sample)
        #expect(model.nodes.map(\.id) == ["main", "garage", "carport"])
        #expect(model.nodes.map(\.level) == [1, 2, 3])
        #expect(model.nodes[1].limit == PhaseCurrents(32, 32, 25))
        #expect(model.nodes[0].powerLimitW == 17000)
        #expect(model.nodes[0].meterTimeout == 30)
        #expect(model.nodes[2].meter == .virtual)
        // The main connection's own charge point comes first ("point 1").
        #expect(model.chargePoints.map(\.id) == ["drive", "cp1", "cp2"])
        #expect(model.nodes[0].chargePoints == [0, 1, 2])
        #expect(model.nodes[2].chargePoints == [1, 2])
        let cp2 = model.chargePoints[2]
        #expect(cp2.ancestors == [2, 1, 0])
        #expect(cp2.minCurrent == 6)
        #expect(cp2.startBuffer == 2)  // residential preset
        #expect(cp2.safeCurrent == 6)
        #expect(cp2.mode == .solar)
        #expect(cp2.rotation.gridMask(phases: 1) == PhaseCurrents(0, 0, 1))
        #expect(model.budget.marginKW == 0.3)
        #expect(model.timing.minPauseSeconds == 120)
    }

    @Test func theHubPresetHasNoStartBuffer() throws {
        let yaml = Self.sample.replacingOccurrences(of: "preset: residential", with: "preset: hub")
        #expect(try SiteModel.load(yaml: yaml).chargePoints.allSatisfy { $0.startBuffer == 0 })
    }

    @Test func aVirtualMeterOverAPanelWithItsOwnMeterIsRefused() throws {
        let yaml = Self.sample.replacingOccurrences(of: "meter: p1", with: "meter: virtual")
        let error = try #require(throws: ConfigError.self) { try SiteModel.load(yaml: yaml, file: "site.yaml") }
        #expect(error.file == "site.yaml")
        #expect(error.field == "site.meter")
        #expect(error.line == 11)
        #expect(error.message.contains("'garage'"))
    }

    @Test func panelsDeeperThanThreeLevelsAreRefused() throws {
        let deep = SiteConfig(
            site: PanelConfig(
                id: "l1", currentLimit: PhaseLimit(40), meter: .device("m1"),
                panels: [
                    PanelConfig(
                        id: "l2", currentLimit: PhaseLimit(40), meter: .device("m2"),
                        panels: [
                            PanelConfig(
                                id: "l3", currentLimit: PhaseLimit(40), meter: .device("m3"),
                                panels: [PanelConfig(id: "l4", currentLimit: PhaseLimit(40), meter: .device("m4"))])
                        ])
                ]))
        let error = try #require(throws: SiteConfigError.self) { try SiteModel(config: deep) }
        #expect(error.renderedPath == "site.panels[0].panels[0].panels[0]")
    }

    @Test func duplicateIdsAreRefusedWithTheirLine() throws {
        let yaml = Self.sample.replacingOccurrences(of: "- id: cp2", with: "- id: cp1")
        let error = try #require(throws: ConfigError.self) { try SiteModel.load(yaml: yaml) }
        #expect(error.field == "site.panels[0].panels[0].charge_points[1].id")
        #expect(error.line == 29)
    }

    @Test func anUnknownRotationNamesItsLine() throws {
        let yaml = Self.sample.replacingOccurrences(of: "rotation: L3L1L2", with: "rotation: L3L2L1")
        let error = try #require(throws: ConfigError.self) { try SiteModel.load(yaml: yaml) }
        #expect(error.line == 31)
        #expect(error.field?.hasSuffix("charge_points[1].rotation") == true)
    }

    @Test func aLimitListMustHaveThreePhases() throws {
        let yaml = Self.sample.replacingOccurrences(of: "[32, 32, 25]", with: "[32, 32]")
        let error = try #require(throws: ConfigError.self) { try SiteModel.load(yaml: yaml) }
        #expect(error.field == "site.panels[0].current_limit")
    }

    @Test(arguments: [
        ("max_current: 16", "max_current: 4", "max_current"),
        ("mode: solar", "mode: manual", "manual_current"),
        ("phases: 1", "phases: 4", "phases"),
        ("phase_switching: true", "phase_switching: true\n              phases: 1", "phase_switching"),
        ("slider_kw: 6", "slider_kw: 0", "slider_kw"),
    ])
    func badValuesAreRefusedNamingTheField(original: String, replacement: String, field: String) throws {
        let yaml = Self.sample.replacingOccurrences(of: original, with: replacement)
        #expect(yaml != Self.sample)
        let error = try #require(throws: ConfigError.self) { try SiteModel.load(yaml: yaml) }
        #expect(error.field?.hasSuffix(field) == true, "\(error)")
        #expect(error.line != nil)
    }
}
