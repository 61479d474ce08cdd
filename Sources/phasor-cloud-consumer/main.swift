import CloudConsumer
import Foundation
import Logging
import MQTT

// phasor-cloud-consumer: the reference cloud-side consumer (docs/bridge.md, "Fleet"):
// one member of a shared-subscription group that writes every site's envelopes into
// PostgreSQL, deduplicated on (site, stream, seq). Run K of them with the same group.
//
//   phasor-cloud-consumer --broker mqtt://127.0.0.1:1883 --postgres "host=/run/postgresql dbname=phasor" \
//       [--group phasor] [--prefix phasor] [--client-id consumer-1]
func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
let logger = Logger(label: "phasor.cloud-consumer")
guard let brokerText = argument("--broker"), let conninfo = argument("--postgres") else {
    FileHandle.standardError.write(Data("usage: phasor-cloud-consumer --broker URL --postgres CONNINFO [--group G] [--prefix P] [--client-id ID]\n".utf8))
    exit(2)
}
do {
    let broker = try MQTTBrokerURL(parsing: brokerText)
    let store = try PostgresStore(conninfo: conninfo)
    let consumer = try ConsumerGroupMember(
        broker: broker, clientID: argument("--client-id") ?? "phasor-consumer-\(getpid())", group: argument("--group") ?? "phasor",
        prefix: argument("--prefix") ?? "phasor", store: store, logger: logger)
    let subscription = try await consumer.start()
    logger.info("consuming", metadata: ["filter": "\(consumer.filter)"])
    // Until SIGTERM/SIGINT: the default action ends the process; the broker keeps the session.
    for await _ in subscription {}
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
