import BridgeAlerts
import Foundation
import Testing

/// Grouping and repetition as Alertmanager's route, on injected time.
@Suite struct AlertDispatcherTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func alert(_ name: String, device: String, at: Date, resolvedAt: Date? = nil) -> Alert {
        Alert(labels: ["alertname": name, "device": device, "site": "home", "severity": "critical"],
              annotations: ["summary": "\(name) \(device)"], status: resolvedAt == nil ? .firing : .resolved,
              startsAt: at, endsAt: resolvedAt)
    }

    var route: AlertDispatcher.Route { AlertDispatcher.Route(groupWait: 30, groupInterval: 300, repeatInterval: 3600) }

    @Test func aGroupWaitsForItsCompanionsThenSendsThemTogether() {
        var d = AlertDispatcher(route: route)
        d.add(alert("communication_lost", device: "cp1", at: t0), at: t0)
        d.add(alert("communication_lost", device: "cp2", at: t0 + 10), at: t0 + 10)
        d.add(alert("charger_error", device: "cp3", at: t0 + 12), at: t0 + 12)
        #expect(d.tick(at: t0 + 29).isEmpty)
        let sent = d.tick(at: t0 + 30)
        #expect(sent.count == 1, "charger_error's group waits 30 s from its own start")
        #expect(sent.first?.alerts.map(\.device) == ["cp1", "cp2"])
        #expect(sent.first?.groupLabels == ["alertname": "communication_lost"])
        #expect(sent.first?.commonLabels == ["alertname": "communication_lost", "site": "home", "severity": "critical"])
        #expect(d.tick(at: t0 + 42).map(\.groupLabels) == [["alertname": "charger_error"]])
    }

    @Test func changesGoOutAtTheGroupIntervalAndResolvedOnce() {
        var d = AlertDispatcher(route: route)
        d.add(alert("communication_lost", device: "cp1", at: t0), at: t0)
        #expect(d.tick(at: t0 + 30).count == 1)
        d.add(alert("communication_lost", device: "cp2", at: t0 + 40), at: t0 + 40)
        #expect(d.tick(at: t0 + 100).isEmpty, "not before the group interval")
        let second = d.tick(at: t0 + 330)
        #expect(second.first?.alerts.count == 2)
        d.add(alert("communication_lost", device: "cp1", at: t0, resolvedAt: t0 + 400), at: t0 + 400)
        let third = d.tick(at: t0 + 630)
        #expect(third.first?.status == .firing)
        #expect(third.first?.resolved.map(\.device) == ["cp1"])
        #expect(third.first?.firing.map(\.device) == ["cp2"])
        #expect(d.tick(at: t0 + 930).isEmpty, "the resolved alert is not sent again; cp2 is unchanged")
        d.add(alert("communication_lost", device: "cp2", at: t0 + 40, resolvedAt: t0 + 1000), at: t0 + 1000)
        let last = d.tick(at: t0 + 1230)
        #expect(last.first?.status == .resolved)
        #expect(d.tick(at: t0 + 100_000).isEmpty, "the group is gone")
    }

    @Test func anUnchangedFiringGroupRepeatsAfterTheRepeatInterval() {
        var d = AlertDispatcher(route: route)
        d.add(alert("communication_lost", device: "cp1", at: t0), at: t0)
        let first = d.tick(at: t0 + 30)
        var sent: [Date] = []
        for s in stride(from: 330.0, through: 7500, by: 300) where !d.tick(at: t0 + s).isEmpty { sent.append(t0 + s) }
        #expect(sent == [t0 + 3630, t0 + 7230], "every hour, on the group's interval")
        #expect(first.first?.id != nil)
    }

    @Test func anAlertResolvedBeforeItsGroupWasSentIsNotSentAtAll() {
        var d = AlertDispatcher(route: route)
        d.add(alert("communication_lost", device: "cp1", at: t0), at: t0)
        d.add(alert("communication_lost", device: "cp1", at: t0, resolvedAt: t0 + 5), at: t0 + 5)
        #expect(d.tick(at: t0 + 30).isEmpty)
    }

    @Test func withoutSendResolvedOnlyFiringGoesOut() {
        var r = route
        r.sendResolved = false
        var d = AlertDispatcher(route: r)
        d.add(alert("communication_lost", device: "cp1", at: t0), at: t0)
        #expect(d.tick(at: t0 + 30).count == 1)
        d.add(alert("communication_lost", device: "cp1", at: t0, resolvedAt: t0 + 60), at: t0 + 60)
        #expect(d.tick(at: t0 + 330).isEmpty)
    }
}
