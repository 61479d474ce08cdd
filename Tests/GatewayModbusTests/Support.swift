import Foundation
import Gateway
import Logging
import Modbus
import MQTT
import PhasorCore
import PhasorTesting
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

let quietLogger: Logger = {
    var logger = Logger(label: "gateway-modbus-test")
    logger.logLevel = .critical
    return logger
}()

/// Test buses never wait long: 300 ms response timeout, no retry.
let fastOptions = BusOptions(responseTimeout: ModbusTimeout(milliseconds: 300), retry: .none)

let library = ProfileLibrary.load()

func profile(_ id: String) throws -> ResolvedProfile { try #require(library[id], "shipped profile \(id)") }

func uniqueSite(_ name: String = #function) -> String {
    "gm\(name.prefix(while: { $0 != "(" }).prefix(16))\(UUID().uuidString.prefix(6))"
}

func connectedClient() async throws -> MQTTClient {
    let port = try await SharedBroker.port()
    let client = try MQTTClient(
        configuration: MQTTConfiguration(
            host: "127.0.0.1", port: port, clientID: "gm-\(UUID().uuidString.prefix(10))",
            reconnect: MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))),
        logger: quietLogger)
    try await client.connect()
    return client
}

func json(_ message: MQTTMessage?) throws -> [String: Any] {
    let message = try #require(message)
    return try #require(try JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any], "\(message.string)")
}

/// Checks documents against a schema in schemas/ when PHASOR_PYTHON names a Python with jsonschema.
func expectValid(_ documents: [[UInt8]], schema: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    guard let result = try await SchemaValidation.validate(documents, against: schema, repositoryRoot: repositoryRoot) else {
        return
    }
    #expect(result.status == 0, "\(schema): \(result.output)", sourceLocation: sourceLocation)
}

/// Moves a manual clock forward in the background, as time passes for a service
/// that polls: each step is one poll interval, taken every `every` of real time.
final class ClockPump: Sendable {
    private let task: Task<Void, Never>
    init(_ clock: ManualWallClock, step: TimeInterval, every: Duration = .milliseconds(50)) {
        task = Task {
            while !Task.isCancelled {
                clock.advance(by: step)
                try? await Task.sleep(for: every)
            }
        }
    }
    func stop() { task.cancel() }
    deinit { task.cancel() }
}

/// Runs services until the test ends.
final class RunningServices: Sendable {
    private let tasks: [Task<Void, Never>]
    init(_ services: [any ServiceRunnable]) {
        tasks = services.map { service in Task { try? await service.run() } }
    }
    func stop() { tasks.forEach { $0.cancel() } }
    deinit { stop() }
}

/// What `Service` requires, without importing ServiceLifecycle into every test.
protocol ServiceRunnable: Sendable { func run() async throws }
extension ModbusDeviceService: ServiceRunnable {}
extension ChargePointService: ServiceRunnable {}
extension RelayService: ServiceRunnable {}
extension PulseMeterService: ServiceRunnable {}

/// Reads a register of a simulated (or any) device the way a second master would.
func readValue(_ point: RegisterLayout, port: Int, unit: UInt8) async throws -> Double? {
    let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: fastOptions)
    defer { Task { await bus.close() } }
    let words = try await bus.readRegisters(point.table, address: point.address.value, count: point.words,
                                            target: BusTarget(unitID: unit))
    return point.value(from: words, honourNotAvailable: false)
}

extension InverterSetpointService: ServiceRunnable {}
