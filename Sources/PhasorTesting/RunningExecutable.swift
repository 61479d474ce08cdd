import Foundation
import MQTT

/// One of Phasor's executables started by a test, with the test's MQTT client, the
/// folder of its site file and log, and the retained topics it leaves behind.
public struct RunningExecutable: Sendable {
    public let process: ChildProcess
    public let peer: MQTTClient
    /// Where the site file and the log are; removed by `stop()`.
    public let folder: URL
    public let log: String
    /// Cleared (empty retained message) by `stop()`, for the next test on the broker.
    public let retainedTopics: [String]

    public init(process: ChildProcess, peer: MQTTClient, folder: URL, log: String, retainedTopics: [String]) {
        self.process = process
        self.peer = peer
        self.folder = folder
        self.log = log
        self.retainedTopics = retainedTopics
    }

    /// Stops the process (SIGTERM), clears its retained topics, removes its folder.
    /// Returns its exit status and its log.
    public func stop() async -> (status: Int32?, log: String) {
        let status = await process.terminate()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        for topic in retainedTopics {
            try? peer.publish(MQTTMessage(topic: topic, payload: [], qos: .atLeastOnce, retain: true))
        }
        await peer.shutdown()
        try? FileManager.default.removeItem(at: folder)
        return (status, output)
    }
}
