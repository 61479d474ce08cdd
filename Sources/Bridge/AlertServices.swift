import BridgeAlerts
import BridgeDelivery
import Foundation
import Logging
import MQTT
import PhasorCore
import PhasorService
import ServiceLifecycle

/// The bridge's alerting and licence pieces for a site: service watch, alerts
/// (engine, MQTT state, queue and channels) and, when the site file has a
/// `licence:` section, the licence.
public enum AlertServices {
    /// The checks of the sections these pieces own.
    public static let checks: [any SiteCheck] = [AlertsSiteCheck(), LicenceSiteCheck()]

    public static func make(session: MQTTSessionService, logger: Logger, clock: any WallClock = SystemWallClock(),
                            tick: Duration = .seconds(1)) throws -> [any Service] {
        let site = session.settings.site
        let topics = session.settings.topics
        let client = session.client
        let channels = try AlertSetup.channels(site.alerts, site: topics.site, clock: clock)
        let queue = InProcessAlertQueue(channels: channels, clock: clock, logger: logger, file: site.alerts?.queueFile)
        let engine: AlertEngine
        do { engine = try AlertEngine(site: topics.site, section: site.alerts, startedAt: clock.now()) } catch {
            throw ConfigError(file: session.settings.site.site, line: nil, field: error.field, message: error.message)
        }
        let licence = Locked<LicenceService?>(nil)
        let publisher = MQTTAlertPublisher(client: client, topics: topics)
        let center = AlertCenter(
            engine: engine, route: AlertDispatcher.Route(site.alerts?.route), channels: channels.map(\.name), queue: queue,
            clock: clock, logger: logger,
            externalAllowed: { licence.withLock { $0?.status?.allows("alerts") ?? false } },
            publish: { alert in
                do { try publisher.publish(alert) } catch {
                    logger.warning("alert not published", metadata: ["id": "\(alert.id)", "error": "\(error)"])
                }
            })
        let events = site.alerts?.events
        let watch = ServiceWatchService(client: client, topics: topics, logger: logger, clock: clock, tick: tick) { service, verdict in
            guard events?.serviceOffline ?? true else { return }
            let texts = center.texts
            let summary: String
            switch verdict {
            case .silent(let age): summary = texts.serviceSilent(service, seconds: Int(age))
            case .offline: summary = texts.serviceOffline(service)
            default: summary = texts.serviceOnline(service)
            }
            center.event("service", device: service, active: !verdict.isAlive, severity: .critical, summary: summary)
        }
        var services: [any Service] = [watch, AlertService(client: client, topics: topics, center: center, queue: queue, tick: tick)]
        if let section = site.licence {
            let settings = try LicenceService.Settings(section)
            let service = LicenceService(settings: settings, client: client, topics: topics,
                                         alerts: (events?.licence ?? true) ? center : nil, clock: clock, logger: logger)
            licence.withLock { $0 = service }
            services.append(service)
        }
        return services
    }
}
