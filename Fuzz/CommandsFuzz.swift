// libFuzzer target for the command payloads the services accept over MQTT: control's
// operator commands (slider, charge-point mode, current and priority, heat-pump regime,
// relay), the gateway's relay command, and the payloads read from other services
// (setpoint, charge-point state, applied, readings). Arbitrary bytes must come back as a
// value or a refusal, never a crash. Built and run by scripts/fuzz.sh, compiled with
// ControlCommand.swift and RelayCommand.swift (the real parsers).
import Control
import Foundation
import PhasorCore
import PhasorService

private let topics = TopicBuilder(site: "home")
private let model: SiteModel = {
    let yaml = """
        site:
          id: main
          current_limit: 25
          meter: grid
          charge_points:
            - {id: cp1, max_current: 16}
          panels:
            - id: garage
              current_limit: 32
              meter: virtual
              charge_points:
                - {id: cp2, max_current: 32, rotation: L2L3L1, phases: 1}
        house:
          heat_pump:
            relays: [sg0, sg1]
            power_w: {normal: 1000, comfort: 2000, boost: 3000}
          relays:
            - {id: boiler, power_w: 2400}
        """
    do { return try SiteModel.load(yaml: yaml) } catch { preconditionFailure("fuzz site: \(error)") }
}()

/// Command topics below `phasor/home/control/`; the first input byte picks one, or a
/// zero byte splits the input into a topic path and a payload.
private let paths = [
    "slider", "chargepoint/cp1/mode", "chargepoint/cp2/current", "chargepoint/cp1/priority",
    "chargepoint/cp9/mode", "heatpump/heat_pump/regime", "relay/boiler", "relay/sg0",
]

@_cdecl("LLVMFuzzerTestOneInput")
public func commandsFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let path: String
    let payload: [UInt8]
    if let zero = bytes.firstIndex(of: 0) {
        path = String(decoding: bytes[..<zero], as: UTF8.self)
        payload = Array(bytes[(zero + 1)...])
    } else {
        path = paths[Int(bytes[0]) % paths.count]
        payload = Array(bytes.dropFirst())
    }
    _ = ControlCommand.parse(topic: topics.controlSet(path), payload: payload, topics: topics, model: model)
    _ = RelayCommand.parse(payload, topic: "phasor/home/relay/boiler/command")
    _ = ChoiceCommand.parse(payload, topic: "t", field: "mode", allowed: ["auto", "solar", "off"])
    _ = NumericCommand.parse(payload, topic: "t", field: "current", range: 6...32, unit: "A")
    _ = try? SetpointPayload.decode(payload)
    _ = try? ChargePointStatePayload.decode(payload)
    _ = try? AppliedPayload.decode(payload)
    _ = try? ReadingPayload.decode(payload)
    _ = try? ReadingPayload.decodeState(payload)
    return 0
}
