// libFuzzer target for the site file loader: arbitrary text through the strict YAML
// loader (shape guard, Yams, the strict decoder) into the site file's sections that
// carry device and control settings (meters, modbus, control; control's tree then
// becomes its SiteModel), and into a device profile. Bad text must become a ConfigError,
// never a crash or a hang. Built and run by scripts/fuzz.sh.
//
// The sections of the service layer (broker, logging, pulses, bridge, alerts, licence,
// homeassistant, metrics) are accepted unread here: their types live in modules that
// need MQTT, SQLite and the rest of the services, which this swiftc build leaves out.
import Control
import Foundation
import PhasorCore

/// The site file as `SiteConfiguration` has it, the service-layer sections unread.
private struct FuzzSite: Decodable {
    var site: String
    var prefix: String?
    var control: SiteConfig?
    var modbus: ModbusSection?
    var meters: [MeterConfiguration]?
    var broker, logging, pulses, bridge, alerts, licence, homeassistant, metrics: Unread?
}

private struct Unread: Decodable {
    init(from decoder: any Decoder) throws {}
}

@_cdecl("LLVMFuzzerTestOneInput")
public func siteFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    switch data[0] % 3 {
    case 0:
        if let site = try? ConfigLoader.decode(FuzzSite.self, yaml: text, file: "site.yaml"), let control = site.control {
            _ = try? SiteModel(config: control)
        }
    case 1:
        _ = try? SiteModel.load(yaml: text, file: "control.yaml")
    default:
        _ = try? ProfileLibrary.parseProfile(yaml: text, file: "profile.yaml")
    }
    return 0
}
