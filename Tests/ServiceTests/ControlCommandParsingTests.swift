import Control
import PhasorCore
import PhasorService
import Testing

@testable import ControlService

/// Command validation without a broker: every refusal names its field and reason.
@Suite struct ControlCommandParsingTests {
    let topics = TopicBuilder(site: "home")
    let model = try! SiteModel(config: DemoControlSite.config)

    func parse(_ path: String, _ payload: String) -> Result<ControlCommand, Refusal> {
        ControlCommand.parse(topic: topics.controlSet(path), payload: Array(payload.utf8), topics: topics, model: model)
            .mapError { Refusal(field: $0.field, reason: $0.reason) }
    }

    struct Refusal: Error, Equatable {
        var field: String
        var reason: String
    }

    @Test func acceptsEveryCommandInItsUsualForms() throws {
        #expect(try parse("slider", "4.5").get() == .slider(kW: 4.5))
        #expect(try parse("chargepoint/cp1/mode", "solar").get() == .mode(chargePoint: "cp1", .solar))
        #expect(try parse("chargepoint/cp1/mode", "\"off\"").get() == .mode(chargePoint: "cp1", .off))
        #expect(try parse("chargepoint/cp2/mode", "{\"value\": \"manual\"}").get() == .mode(chargePoint: "cp2", .manual))
        #expect(try parse("chargepoint/cp2/current", "20").get() == .manualCurrent(chargePoint: "cp2", amperes: 20))
        #expect(try parse("chargepoint/cp1/priority", "{\"value\": 3}").get() == .priority(chargePoint: "cp1", 3))
        // 0 and 1 are numbers (Foundation on Linux also reads them as Bool).
        #expect(try parse("chargepoint/cp1/priority", "{\"value\": 0}").get() == .priority(chargePoint: "cp1", 0))
        #expect(try parse("chargepoint/cp1/priority", "{\"value\": 1}").get() == .priority(chargePoint: "cp1", 1))
        #expect(try parse("slider", "{\"value\": 10}").get() == .slider(kW: 10))
    }

    @Test(arguments: [
        ("chargepoint/cp9/mode", "solar", "chargepoint", "unknown charge point 'cp9'"),
        ("chargepoint/cp1/mode", "turbo", "mode", "'turbo' is not one of automatic, manual, solar, off"),
        ("chargepoint/cp1/mode", "{\"value\": 1}", "mode", "'value' must be a string"),
        ("chargepoint/cp1/current", "40", "current", "40 A is outside 6…16 A"),
        ("chargepoint/cp1/current", "5", "current", "outside"),
        ("chargepoint/cp1/current", "lots", "current", "expected a number"),
        ("chargepoint/cp1/priority", "1.5", "priority", "must be a whole number"),
        ("chargepoint/cp1/priority", "1000", "priority", "outside"),
        ("chargepoint/cp1/colour", "red", "topic", "unknown command topic"),
        ("chargepoint/cp1", "1", "topic", "unknown command topic"),
        ("slider", "1", "slider", "outside 2.5…1000 kW"),
        ("slider", "{\"value\": 1}", "slider", "outside 2.5…1000 kW"),
        ("slider", "{\"value\": true}", "slider", "'value' must be a number"),
        ("chargepoint/cp1/priority", "{\"value\": false}", "priority", "'value' must be a number"),
        ("chargepoint/cp1/mode", "{\"value\": \"solar\", \"x\": 1}", "mode", "unknown field: 'x'"),
    ])
    func refusesWithTheFieldAndAReason(path: String, payload: String, field: String, reason: String) {
        switch parse(path, payload) {
        case .success(let command): Issue.record("accepted \(command)")
        case .failure(let refusal):
            #expect(refusal.field == field)
            #expect(refusal.reason.contains(reason), "\(refusal.reason)")
        }
    }
}

/// The house's operator commands (docs/house.md): a regime or a relay forced until an expiry.
@Suite struct HouseCommandParsingTests {
    let topics = TopicBuilder(site: "home")
    let model: SiteModel = {
        var config = DemoControlSite.config
        config.house = HouseConfig(
            heatPump: HeatPumpConfig(relays: ["sg0", "sg1"], powerW: [.normal: 1000]),
            relays: [SurplusRelayConfig(id: "boiler", powerW: 2400)])
        return try! SiteModel(config: config)
    }()

    func parse(_ path: String, _ payload: String) -> Result<ControlCommand, CommandError> {
        ControlCommand.parse(topic: topics.controlSet(path), payload: Array(payload.utf8), topics: topics, model: model)
    }

    @Test func acceptsRegimesRelaysAutoAndDurations() throws {
        #expect(try parse("heatpump/heat_pump/regime", "boost").get() == .heatPump(id: "heat_pump", .boost, seconds: 3600))
        #expect(try parse("heatpump/heat_pump/regime", #"{"value": "off", "duration_s": 600}"#).get()
            == .heatPump(id: "heat_pump", .off, seconds: 600))
        #expect(try parse("heatpump/heat_pump/regime", "auto").get() == .heatPump(id: "heat_pump", nil, seconds: 3600))
        #expect(try parse("relay/boiler", "on").get() == .relay(id: "boiler", true, seconds: 3600))
        #expect(try parse("relay/boiler", #"{"value": "auto"}"#).get() == .relay(id: "boiler", nil, seconds: 3600))
    }

    @Test(arguments: [
        ("heatpump/hp2/regime", "boost", "heatpump", "unknown heat pump 'hp2'"),
        ("heatpump/heat_pump/regime", "turbo", "regime", "'turbo' is not one of off, normal, comfort, boost, auto"),
        ("heatpump/heat_pump/regime", #"{"value": "boost", "duration_s": 10}"#, "duration_s", "10: use 60…86400 s"),
        ("heatpump/heat_pump/regime", #"{"value": "boost", "until": 5}"#, "regime", "unknown field: 'until'"),
        ("relay/sg0", "on", "relay", "unknown relay 'sg0' (control steers: boiler)"),
        ("relay/boiler", "maybe", "state", "'maybe' is not one of on, off, auto"),
    ])
    func refusesWithFieldAndReason(path: String, payload: String, field: String, reason: String) {
        guard case .failure(let error) = parse(path, payload) else {
            Issue.record("\(path) \(payload) was accepted")
            return
        }
        #expect(error.field == field)
        #expect(error.reason.contains(reason), "\(error.reason)")
    }
}
