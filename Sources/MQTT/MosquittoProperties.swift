import CMosquitto
import Foundation

/// Converts between `MQTTPublishProperties` and libmosquitto's property lists.
enum MosquittoProperties {
    /// Builds a property list; the caller frees it with `mosquitto_property_free_all`.
    static func make(_ p: MQTTPublishProperties) -> OpaquePointer? {
        guard !p.isEmpty else { return nil }
        var list: OpaquePointer? = nil
        if let v = p.messageExpiryInterval {
            mosquitto_property_add_int32(&list, Int32(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL.rawValue), v)
        }
        if let v = p.contentType { mosquitto_property_add_string(&list, Int32(MQTT_PROP_CONTENT_TYPE.rawValue), v) }
        if let v = p.responseTopic { mosquitto_property_add_string(&list, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), v) }
        if let v = p.correlationData {
            _ = v.withUnsafeBytes { raw in
                mosquitto_property_add_binary(
                    &list, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), raw.baseAddress, UInt16(clamping: v.count))
            }
        }
        if let v = p.payloadIsUTF8 {
            mosquitto_property_add_byte(&list, Int32(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR.rawValue), v ? 1 : 0)
        }
        for u in p.userProperties {
            mosquitto_property_add_string_pair(&list, Int32(MQTT_PROP_USER_PROPERTY.rawValue), u.name, u.value)
        }
        return list
    }

    /// Reads the publish properties of a received message.
    static func read(_ list: OpaquePointer?) -> MQTTPublishProperties {
        var out = MQTTPublishProperties()
        var cursor = list
        while let prop = cursor {
            switch UInt32(mosquitto_property_identifier(prop)) {
            case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL.rawValue:
                var v: UInt32 = 0
                if mosquitto_property_read_int32(prop, mosquitto_property_identifier(prop), &v, false) != nil {
                    out.messageExpiryInterval = v
                }
            case MQTT_PROP_CONTENT_TYPE.rawValue:
                out.contentType = readString(prop)
            case MQTT_PROP_RESPONSE_TOPIC.rawValue:
                out.responseTopic = readString(prop)
            case MQTT_PROP_CORRELATION_DATA.rawValue:
                var value: UnsafeMutableRawPointer? = nil
                var len: UInt16 = 0
                if mosquitto_property_read_binary(prop, mosquitto_property_identifier(prop), &value, &len, false) != nil,
                    let value
                {
                    out.correlationData = Array(UnsafeRawBufferPointer(start: value, count: Int(len)))
                    free(value)
                } else {
                    out.correlationData = []
                }
            case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR.rawValue:
                var v: UInt8 = 0
                if mosquitto_property_read_byte(prop, mosquitto_property_identifier(prop), &v, false) != nil {
                    out.payloadIsUTF8 = v == 1
                }
            case MQTT_PROP_USER_PROPERTY.rawValue:
                var name: UnsafeMutablePointer<CChar>? = nil
                var value: UnsafeMutablePointer<CChar>? = nil
                if mosquitto_property_read_string_pair(prop, mosquitto_property_identifier(prop), &name, &value, false)
                    != nil, let name, let value
                {
                    out.userProperties.append(MQTTUserProperty(String(cString: name), String(cString: value)))
                }
                free(name)
                free(value)
            default:
                break
            }
            cursor = mosquitto_property_next(prop)
        }
        return out
    }

    /// The subscription identifiers the broker attached (one per matching subscription).
    static func subscriptionIdentifiers(_ list: OpaquePointer?) -> [UInt32] {
        var ids: [UInt32] = []
        var cursor = list
        while let prop = cursor {
            if UInt32(mosquitto_property_identifier(prop)) == MQTT_PROP_SUBSCRIPTION_IDENTIFIER.rawValue {
                var v: UInt32 = 0
                if mosquitto_property_read_varint(prop, mosquitto_property_identifier(prop), &v, false) != nil { ids.append(v) }
            }
            cursor = mosquitto_property_next(prop)
        }
        return ids
    }

    /// The Receive Maximum of a CONNACK, if the broker sent one.
    static func receiveMaximum(_ list: OpaquePointer?) -> Int? {
        var cursor = list
        while let prop = cursor {
            if UInt32(mosquitto_property_identifier(prop)) == MQTT_PROP_RECEIVE_MAXIMUM.rawValue {
                var v: UInt16 = 0
                if mosquitto_property_read_int16(prop, mosquitto_property_identifier(prop), &v, false) != nil { return Int(v) }
            }
            cursor = mosquitto_property_next(prop)
        }
        return nil
    }

    private static func readString(_ prop: OpaquePointer) -> String? {
        var value: UnsafeMutablePointer<CChar>? = nil
        guard mosquitto_property_read_string(prop, mosquitto_property_identifier(prop), &value, false) != nil,
            let value
        else { return nil }
        defer { free(value) }
        return String(cString: value)
    }
}
