import PhasorCore

/// Device-based discovery JSON (`<prefix>/device/<node_id>/config`): `device`,
/// `origin`, the device's availability list (`availability_mode: all`), `qos`, and
/// `components` keyed by component id, each with `platform` and `unique_id`.
/// Full key names (HA expands the abbreviations it also accepts).
public enum DiscoveryPayload {
    public static let originName = "Phasor"

    /// `<prefix>/device/<node_id>/config`.
    public static func topic(prefix: String, nodeID: String) -> String { "\(prefix)/device/\(nodeID)/config" }

    /// `<node_id>_<key>`: stable as long as the hardware identity and the quantity are.
    public static func uniqueID(_ device: DiscoveryDevice, _ component: DiscoveryComponent) -> String {
        "\(device.nodeID)_\(component.key)"
    }

    public static func encode(_ device: DiscoveryDevice) -> [UInt8] {
        var w = JSONWriter(capacity: 512 + 320 * device.components.count)
        w.beginObject()
        w.key("device")
        w.beginObject()
        w.key("identifiers"); w.beginArray(); for id in device.identifiers { w.value(id) }; w.endArray()
        if let name = device.name { w.key("name"); w.value(name) }
        if let m = device.manufacturer { w.key("manufacturer"); w.value(m) }
        if let m = device.model { w.key("model"); w.value(m) }
        if let s = device.serialNumber { w.key("serial_number"); w.value(s) }
        if let via = device.viaDevice { w.key("via_device"); w.value(via) }
        w.key("sw_version"); w.value(PhasorVersion.string)
        w.endObject()
        w.key("origin")
        w.beginObject()
        w.key("name"); w.value(originName)
        w.key("sw_version"); w.value(PhasorVersion.string)
        w.endObject()
        if !device.availability.isEmpty {
            w.key("availability")
            w.beginArray()
            for topic in device.availability {
                w.beginObject(); w.key("topic"); w.value(topic); w.endObject()
            }
            w.endArray()
            w.key("availability_mode"); w.value("all")
        }
        w.key("qos"); w.value(1)
        w.key("components")
        w.beginObject()
        for c in device.components {
            w.key(c.key)
            write(c, uniqueID: uniqueID(device, c), nodeID: device.nodeID, into: &w)
        }
        w.endObject()
        w.endObject()
        return w.bytes
    }

    private static func write(_ c: DiscoveryComponent, uniqueID: String, nodeID: String, into w: inout JSONWriter) {
        w.beginObject()
        w.key("platform"); w.value(c.platform.rawValue)
        w.key("unique_id"); w.value(uniqueID)
        w.key("name"); w.value(c.name)
        // `object_id` until HA 2026.4, `default_entity_id` from 2025.10: both, as HA advises.
        w.key("object_id"); w.value(uniqueID)
        w.key("default_entity_id"); w.value("\(c.platform.rawValue).\(uniqueID)")
        func put(_ key: String, _ value: String?) { if let value { w.key(key); w.value(value) } }
        func put(_ key: String, _ value: Double?) { if let value { w.key(key); w.value(value) } }
        put("state_topic", c.stateTopic)
        put("value_template", c.valueTemplate)
        put("command_topic", c.commandTopic)
        put("command_template", c.commandTemplate)
        if c.commandTopic != nil { w.key("retain"); w.value(false) }
        put("device_class", c.entityClass.deviceClass)
        if c.platform == .sensor { put("state_class", c.entityClass.stateClass) }
        put("unit_of_measurement", c.entityClass.unit)
        put("entity_category", c.entityClass.entityCategory)
        put("min", c.min)
        put("max", c.max)
        put("step", c.step)
        put("mode", c.mode)
        if let options = c.options {
            w.key("options"); w.beginArray(); for o in options { w.value(o) }; w.endArray()
        }
        put("payload_on", c.payloadOn)
        put("payload_off", c.payloadOff)
        put("state_on", c.stateOn)
        put("state_off", c.stateOff)
        put("payload_press", c.payloadPress)
        w.endObject()
    }
}
