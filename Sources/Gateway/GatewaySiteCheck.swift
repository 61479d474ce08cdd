import Foundation
import Modbus
import PhasorCore
import PhasorService
import Pulse

#if canImport(Glibc)
import Glibc
#endif

/// The gateway's sections of the site file (`meters:`, `modbus:`, `pulses:`),
/// checked as phasor-gateway checks them at start; `phasor config check` runs the same.
public struct GatewaySiteCheck: SiteCheck {
    public init() {}

    public func check(_ site: SiteConfiguration, in document: ConfigDocument) throws -> [ConfigError] {
        let meters = site.meters ?? []
        let resolved: [MeterSettings]
        do { resolved = try MeterSettings.resolve(meters) } catch {
            // `meters.<id>`, at the line of the field the message starts with when there is one.
            let field = error.message.prefix { $0.isLetter || $0 == "_" }
            var located = document.error("meters.\(error.meter)", error.message)
            if !field.isEmpty { located.line = document.line(of: "meters.\(error.meter).\(field)") ?? located.line }
            throw located
        }
        if let modbus = site.modbus { try modbus.validate(profiles: modbus.profileLibrary(), file: document.file) }
        try site.pulses?.validate(file: document.file)
        try Self.checkTopicsAreNotShared(site, in: document)
        return resolved.compactMap { meter in
            guard let port = meter.splitPort, !Self.portIsFree(port, address: meter.splitBind) else { return nil }
            return document.error(
                "meters.\(meter.id).split_port",
                "port \(port) is in use now; the gateway reads the meter anyway and retries the split every few seconds")
        }
    }

    /// Meters, Modbus devices and pulse inputs each publish `meter/<id>/…` or
    /// `device/<id>/…`: two with one id would publish on one topic.
    static func checkTopicsAreNotShared(_ site: SiteConfiguration, in document: ConfigDocument) throws(ConfigError) {
        var owners: [String: String] = [:]
        let sources = (site.meters ?? []).map { ("meters.\($0.id)", $0.id) }
            + (site.modbus?.devices ?? []).map { ("modbus.devices.\($0.id)", $0.id) }
            + (site.pulses?.inputs ?? []).map { ("pulses.inputs.\($0.id)", $0.id) }
        for (field, id) in sources {
            if let first = owners[id], first != field {
                throw document.error(
                    "\(field).id",
                    "'\(id)' is also \(first): both would publish on meter/\(id)/…; give each its own id")
            }
            owners[id] = field
        }
    }

    /// Whether a TCP listener could bind `port` on `address` now, as the gateway will
    /// (`split_bind`, 127.0.0.1 by default; on 0.0.0.0 a listener on any interface
    /// makes it busy).
    static func portIsFree(_ port: Int, address: String) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else { return true }
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
