import BridgeAlerts
import Foundation
import PhasorTesting
import Testing

let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Python with the test peers (aiosmtpd) when scripts/test.sh set it up; plain python3 serves the HTTP sink.
let peerPython = ProcessInfo.processInfo.environment["PHASOR_PYTHON"]
let anyPython = peerPython ?? "python3"

func script(_ name: String) throws -> String {
    try #require(Bundle.module.url(forResource: "Scripts", withExtension: nil)).appendingPathComponent(name).path
}

func temporaryFolder(_ name: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("phasor-bridge-\(name.prefix(while: { $0 != "(" }))-\(UUID().uuidString.prefix(6))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A webhook/ntfy receiver on loopback (Tests/BridgeTests/Scripts/http_sink.py).
final class HTTPSink: @unchecked Sendable {
    let port: Int
    let record: String
    var process: ChildProcess?

    init(port: Int = Loopback.freePort(), folder: URL) {
        self.port = port
        record = folder.appendingPathComponent("requests-\(port).jsonl").path
    }

    func start(status: Int = 200) async throws {
        process = try ChildProcess(anyPython, [try script("http_sink.py"), String(port), record, String(status)])
        #expect(await Loopback.waitUntilListening(port: port, timeout: .seconds(20)), "the HTTP sink did not start")
    }

    func stop() async {
        _ = await process?.terminate()
        process = nil
    }

    struct Request {
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    var requests: [Request] {
        guard let text = try? String(contentsOfFile: record, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let body = Data(base64Encoded: o["body"] as? String ?? "") else { return nil }
            return Request(path: o["path"] as? String ?? "", headers: o["headers"] as? [String: String] ?? [:], body: Array(body))
        }
    }
}

/// A notification as the dispatcher makes them: two alerts of one group.
func sampleNotification(at t: Date = Date(timeIntervalSince1970: 1_800_000_000)) -> AlertNotification {
    var route = AlertDispatcher.Route(groupWait: 0)
    route.groupBy = ["alertname"]
    var d = AlertDispatcher(route: route)
    for device in ["cp1", "cp2"] {
        d.add(Alert(labels: ["alertname": "communication_lost", "device": device, "site": "home", "severity": "critical"],
                    annotations: ["summary": "communication perdue avec \(device)"], status: .firing, startsAt: t), at: t)
    }
    return d.tick(at: t)[0]
}
