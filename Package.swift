// swift-tools-version: 6.0
// Phasor: an open energy-management gateway. See README.md and docs/.
import PackageDescription

/// Every target is built in Swift 6 language mode (strict concurrency) and
/// must compile without warnings; CI builds with `-warnings-as-errors`.
let package = Package(
    name: "Phasor",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "phasor-gateway", targets: ["phasor-gateway"]),
        .executable(name: "phasor-control", targets: ["phasor-control"]),
        .executable(name: "phasor-bridge", targets: ["phasor-bridge"]),
        .executable(name: "phasor", targets: ["phasor"]),
        .library(name: "MQTT", targets: ["MQTT"]),
        .library(name: "PhasorCore", targets: ["PhasorCore"]),
        .library(name: "PhasorTesting", targets: ["PhasorTesting"]),
        .library(name: "Plant", targets: ["Plant"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    ],
    targets: [
        // MARK: C shims (thin, as in swift-nio): headers and link flags only.
        .systemLibrary(
            name: "CMosquitto", pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"]), .brew(["mosquitto"])]),
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
        .systemLibrary(
            name: "CModbus", pkgConfig: "libmodbus",
            providers: [.apt(["libmodbus-dev"]), .brew(["libmodbus"])]),

        // MARK: Libraries
        /// Async MQTT 5 / 3.1.1 client over libmosquitto. Knows nothing of Phasor.
        .target(
            name: "MQTT",
            dependencies: ["CMosquitto", .product(name: "Logging", package: "swift-log")]),
        /// The shared vocabulary: quantities, units, readings, topics, payloads, config, clocks.
        .target(
            name: "PhasorCore",
            dependencies: ["Yams", .product(name: "Logging", package: "swift-log")]),
        /// P1 (DSMR, e-MUCS, Smarty) parsing. No MQTT, no I/O.
        .target(
            name: "P1",
            dependencies: ["PhasorCore", .product(name: "Crypto", package: "swift-crypto")]),
        /// French TIC (historique and standard) parsing. No MQTT, no I/O.
        .target(name: "TIC", dependencies: ["PhasorCore"]),
        /// Modbus over libmodbus: buses, device profiles as data.
        .target(
            name: "Modbus",
            dependencies: ["CModbus", "PhasorCore", .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Profiles")]),
        /// Simulated devices served from the same profiles over Modbus TCP and RTU (meters, charge
        /// points with a car, inverters and batteries, relays), and socat pty pairs: shipped with
        /// the product (`phasor simulate`, the demo), used by tests and benchmarks.
        .target(name: "DeviceSimulators", dependencies: ["Modbus", "CModbus", "PhasorCore"]),
        /// Linux GPIO character-device uAPI v2 (request struct and ioctl numbers are C macros).
        .target(name: "CGPIO"),
        /// S0 pulse inputs: GPIO edges, debounce, persisted counters, rates. No MQTT.
        .target(name: "Pulse", dependencies: ["CGPIO", "PhasorCore"]),
        /// Meter byte sources (serial with termios, TCP client, file replay) that reopen
        /// by themselves, and the TCP fan-out of the P1 split. No MQTT, no parsing.
        .target(name: "MeterIO", dependencies: ["PhasorCore"]),
        /// Control algorithms: pure functions of site model, measurements and time.
        .target(name: "Control", dependencies: ["PhasorCore"]),
        /// Home Assistant MQTT discovery: pure functions from a device description to
        /// discovery payloads, the quantity → class table, the removal registry. No MQTT.
        .target(name: "HomeAssistant", dependencies: ["PhasorCore"]),
        /// What every Phasor service shares: command line, config, MQTT session, status, lifecycle.
        .target(
            name: "PhasorService",
            dependencies: [
                "MQTT", "PhasorCore", "Modbus", "Pulse", "Control", "BridgeCore", "BridgeAlerts", "BridgeLicences", "HomeAssistant",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .target(name: "Gateway", dependencies: ["PhasorService", "P1", "TIC", "Modbus", "Pulse", "MeterIO", "HomeAssistant"]),
        .target(name: "ControlService", dependencies: ["PhasorService", "Control", "HomeAssistant"], resources: [.copy("Resources")]),
        // MARK: The bridge (issue 12): a small core and one module per capability.
        /// The bridge's vocabulary: its site section, message classes and lanes, cloud topics
        /// and envelope, command allowlist. Pure: no I/O, no MQTT session, no database.
        .target(name: "BridgeCore", dependencies: ["PhasorCore", "MQTT"]),
        /// The disk outbox (SQLite through GRDB, WAL): per-stream sequence numbers, lanes,
        /// byte bound with class policy and gap records, dead letters. No MQTT.
        .target(
            name: "BridgeOutbox",
            dependencies: ["BridgeCore", "PhasorCore", .product(name: "GRDB", package: "GRDB.swift")]),
        /// The cloud side of the link: sender (live, priority and rate-limited backlog lanes),
        /// commands back through the allowlist.
        .target(
            name: "BridgeCloud",
            dependencies: [
                "BridgeCore", "BridgeOutbox", "MQTT", "PhasorCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        /// The reference cloud-side consumer: a shared-subscription group member writing
        /// envelopes to PostgreSQL (libpq), deduplicated on (site, stream, seq).
        .target(
            name: "CloudConsumer",
            dependencies: ["CLibPQ", "BridgeCore", "MQTT", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "phasor-cloud-consumer",
            dependencies: ["CloudConsumer", "MQTT", .product(name: "Logging", package: "swift-log")]),
        /// libcurl: HTTP(S) and SMTP (STARTTLS, TLS, AUTH) for the bridge's alert delivery.
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),
        /// Alert rules, grouping and message formats: pure, on injected time. No MQTT, no I/O.
        .target(name: "BridgeAlerts", dependencies: ["PhasorCore"]),
        /// Offline licences: canonical bytes, Ed25519 verification, machine serial, trusted time. No MQTT.
        .target(
            name: "BridgeLicences",
            dependencies: ["PhasorCore", .product(name: "Crypto", package: "swift-crypto")]),
        /// Alert delivery: the queue (`AlertQueue`) and its channels (MQTT, webhook, ntfy, e-mail).
        .target(
            name: "BridgeDelivery",
            dependencies: ["BridgeAlerts", "MQTT", "PhasorCore", "CCurl",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Logging", package: "swift-log")]),
        /// The bridge service: the local intake (acked after the outbox commit), wiring, site check.
        .target(
            name: "Bridge",
            dependencies: [
                "PhasorService", "BridgeCore", "BridgeOutbox", "BridgeCloud", "BridgeAlerts", "BridgeDelivery", "BridgeLicences",
            ]),
        /// Shipped beside the libraries (as HummingbirdTesting is): a real mosquitto
        /// on a free loopback port, child processes with a clean signal mask.
        .target(name: "PhasorTesting", dependencies: ["MQTT", "PhasorCore"]),
        // Swift Testing traits for our own test targets (not shipped: PhasorTesting is).
        .target(name: "TestTraits", path: "Tests/TestTraits"),

        // MARK: Executables (thin: parse the command line, run the service)
        .executableTarget(
            name: "phasor-gateway",
            dependencies: ["Gateway", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .executableTarget(name: "phasor-control", dependencies: ["ControlService"]),
        .executableTarget(name: "phasor-bridge", dependencies: ["Bridge"]),
        .executableTarget(
            name: "phasor",
            dependencies: ["Gateway", "ControlService", "Bridge", "BridgeLicences", "PhasorTesting", "DeviceSimulators",
                           .product(name: "Crypto", package: "swift-crypto")]),

        // MARK: Benchmarks (print figures; run by scripts/bench.sh, never timed in tests)
        .executableTarget(
            name: "phasor-bench-mqtt", dependencies: ["MQTT", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/MQTTThroughput", exclude: ["c_client.c"]),
        .executableTarget(
            name: "phasor-bench-control", dependencies: ["Control"], path: "Benchmarks/ControlCycle"),
        .executableTarget(
            name: "phasor-bench-modbus", dependencies: ["Modbus", "DeviceSimulators", "PhasorCore"], path: "Benchmarks/ModbusPoll"),
        .executableTarget(
            name: "phasor-bench-control-latency",
            dependencies: ["ControlService", "Control", "MQTT", "PhasorTesting", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/ControlLatency"),
        .executableTarget(
            name: "phasor-bench-parse", dependencies: ["P1", "TIC", "PhasorCore"],
            path: "Benchmarks/ParseRate"),
        .executableTarget(
            name: "phasor-bench-latency",
            dependencies: ["Gateway", "MQTT", "Modbus", "DeviceSimulators", "PhasorCore", "PhasorTesting", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/MeterLatency"),
        .executableTarget(
            name: "phasor-bench-reaction",
            dependencies: ["Modbus", "DeviceSimulators", "MQTT", "PhasorCore", "PhasorTesting", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/ReactionLatency"),

        .executableTarget(
            name: "phasor-bench-fleet",
            dependencies: [
                "BridgeCloud", "BridgeCore", "BridgeOutbox", "CloudConsumer", "MQTT", "PhasorTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/Fleet"),
        .executableTarget(
            name: "phasor-bench-outbox",
            dependencies: ["BridgeOutbox", "BridgeCore", "PhasorCore"],
            path: "Benchmarks/OutboxRate"),

        // MARK: Plant simulator and closed loop (issue 10): a physical site on injected
        // time, control run against it, and the simulated-year benchmark.
        /// A physical site: breakers, loads, chargers, cars, meters. Pure: time and seed are passed in.
        .target(name: "Plant", dependencies: ["PhasorCore"]),
        /// Control run against the plant with the service's timing, and what it did.
        .target(name: "ControlSimulation", dependencies: ["Control", "Plant", "PhasorCore"]),
        .executableTarget(
            name: "phasor-bench-year", dependencies: ["ControlSimulation", "Control", "Plant", "PhasorCore"],
            path: "Benchmarks/SimulatedYear"),
        .testTarget(
            name: "ControlSimulationTests",
            dependencies: [
                "ControlSimulation", "Control", "Plant", "PhasorCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),

        // MARK: Tests (Swift Testing)
        .testTarget(name: "PhasorCoreTests", dependencies: ["PhasorCore"]),
        .testTarget(
            name: "BridgeTests",
            dependencies: [
                "Bridge", "BridgeCore", "BridgeOutbox", "BridgeCloud", "CloudConsumer", "BridgeAlerts", "BridgeDelivery",
                "BridgeLicences", "PhasorService", "MQTT", "PhasorCore", "Modbus", "DeviceSimulators", "PhasorTesting", "TestTraits",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Scripts")]),
        .testTarget(name: "HomeAssistantTests", dependencies: ["HomeAssistant", "PhasorCore"]),
        .testTarget(name: "MQTTTests", dependencies: ["MQTT", "PhasorTesting"]),
        .testTarget(name: "P1Tests", dependencies: ["P1", "PhasorTesting"], resources: [.copy("Fixtures"), .copy("Scripts")]),
        .testTarget(name: "TICTests", dependencies: ["TIC", "PhasorTesting"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModbusTests", dependencies: ["Modbus", "DeviceSimulators"]),
        .testTarget(name: "PulseTests", dependencies: ["Pulse", "PhasorTesting", "TestTraits"]),
        .testTarget(
            name: "ControlTests",
            dependencies: ["Control", "TIC", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(
            name: "GatewayModbusTests", dependencies: ["Gateway", "DeviceSimulators", "PhasorTesting", "TestTraits", "Pulse"], resources: [.copy("Scripts")]),
        .testTarget(
            name: "ServiceTests",
            dependencies: ["PhasorService", "Gateway", "Control", "ControlService", "Bridge", "DeviceSimulators", "PhasorTesting", "TestTraits", "TIC", "HomeAssistant"]),
        .testTarget(
            name: "SiteTests", dependencies: ["Gateway", "ControlService", "Modbus", "DeviceSimulators", "MQTT", "PhasorCore", "PhasorTesting", "TestTraits"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "GatewayTests", dependencies: ["Gateway", "MeterIO", "DeviceSimulators", "PhasorTesting", "TestTraits"],
            resources: [.copy("Fixtures"), .copy("Scripts")]),
    ]
)
