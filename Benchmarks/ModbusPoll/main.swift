// Modbus poll benchmark (prints figures; run by scripts/bench-modbus.sh, release build).
//
// 1. One poll cycle over 20 simulated Modbus TCP devices (the site maximum), each on
//    its own connection and simulator thread, all polled at once: wall time per
//    cycle, median and p99.
// 2. Requests per second on one RTU bus over a socat pty, set to 9600 and 115200
//    baud, against the frame-time limit of a real wire at those rates. A pty moves
//    bytes at memory speed whatever the baud setting, so the measured rate is the
//    software ceiling of bus + libmodbus + simulator; the wire limit is computed.
import DeviceSimulators
import Foundation
import Modbus
import PhasorCore

let cycles = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 300
let rtuSeconds = Double(CommandLine.arguments.dropFirst(2).first ?? "") ?? 3
let library = ProfileLibrary.load()
let options = BusOptions(responseTimeout: ModbusTimeout(milliseconds: 1000), retry: .none)

func percentile(_ sorted: [Duration], _ p: Double) -> Duration {
    sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func ms(_ d: Duration) -> String {
    let (s, a) = d.components
    return String(format: "%.3f", Double(s) * 1000 + Double(a) / 1e15)
}

// MARK: 1. Twenty TCP devices

let tcpProfiles = ["siemens_pac2200", "socomec_countis", "sunspec_meter_203", "alfen_eve", "abb_terra_ac", "enovates",
                   "peblar", "phoenix_ev_eth", "mennekes_amtron_professional", "hager_witty", "sma_stp_se", "sungrow_shx",
                   "solax_g4", "huawei_sun2000"]
var simulators: [ModbusSimulator] = []
var built: [ModbusDevice] = []
for i in 0..<20 {
    let profile = library[tcpProfiles[i % tcpProfiles.count]]!
    let simulator = ModbusSimulator()
    try simulator.add(profile)
    let port = try simulator.startTCP()
    simulators.append(simulator)
    let bus = ModbusBus(link: .tcp(host: "127.0.0.1", port: port), options: options)
    built.append(ModbusDevice(id: "d\(i)", profile: profile, bus: bus,
                              target: BusTarget(unitID: UInt8(clamping: profile.profile.connection.unitId))))
}
let devices = built

func pollCycle(_ devices: [ModbusDevice]) async -> Duration {
    let started = ContinuousClock.now
    await withTaskGroup(of: Void.self) { group in
        for device in devices {
            group.addTask { _ = try? await device.poll(groups: device.allGroups) }
        }
    }
    return ContinuousClock.now - started
}

for _ in 0..<10 { _ = await pollCycle(devices) }  // connect and warm up
let requestsBefore = await devices.asyncSum { await $0.health.statistics.requests }
var times: [Duration] = []
for _ in 0..<cycles { times.append(await pollCycle(devices)) }
let requests = await devices.asyncSum { await $0.health.statistics.requests } - requestsBefore
let errors = await devices.asyncSum { await $0.health.statistics.errors }
times.sort()
print("TCP_POLL_CYCLE devices=20 cycles=\(cycles) requests_per_cycle=\(requests / cycles) errors=\(errors)")
print("TCP_POLL_CYCLE_MS median=\(ms(percentile(times, 0.5))) p99=\(ms(percentile(times, 0.99))) max=\(ms(times.last!))")
for simulator in simulators { simulator.stop() }

// MARK: 2. One RTU bus

/// Frame-time limit of one request/response on a real RS-485 wire: every byte is
/// start + 8 data + parity + stop bits, and each frame is followed by 3.5 character
/// times of silence (a fixed 1.75 ms above 19200 baud, per the Modbus serial spec).
func wireLimit(baud: Int, parity: Bool, stopBits: Int, requestBytes: Int, responseBytes: Int) -> Double {
    let bitsPerChar = Double(1 + 8 + (parity ? 1 : 0) + stopBits)
    let charTime = bitsPerChar / Double(baud)
    let silence = baud > 19200 ? 0.00175 : 3.5 * charTime
    let transaction = Double(requestBytes + responseBytes) * charTime + 2 * silence
    return 1 / transaction
}

let pair = try await SocatPTYPair.start()
let meter = library["eastron_sdm630"]!
let rtuSimulator = ModbusSimulator()
try rtuSimulator.add(meter)
try rtuSimulator.startRTU(device: pair.second)
for baud in [9600, 115200] {
    let settings = SerialSettings(baud: baud)
    let bus = ModbusBus(link: .rtu(device: pair.first, defaultSettings: settings), options: options)
    let target = BusTarget(unitID: 1, serial: settings)
    for count in [2, 40] {
        _ = try await bus.readRegisters(.inputRegisters, address: 0, count: count, target: target)
        var done = 0
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int(rtuSeconds * 1000))
        while ContinuousClock.now < deadline {
            _ = try await bus.readRegisters(.inputRegisters, address: 0, count: count, target: target)
            done += 1
        }
        let elapsed = ContinuousClock.now - started
        let (s, a) = elapsed.components
        let rate = Double(done) / (Double(s) + Double(a) / 1e18)
        // Read input registers: request 8 bytes; response 5 + 2 × count bytes.
        let limit = wireLimit(baud: baud, parity: false, stopBits: 1, requestBytes: 8, responseBytes: 5 + 2 * count)
        print(String(format: "RTU baud=%d registers=%d pty_requests_per_second=%.0f wire_limit_per_second=%.1f headroom=%.0fx",
                     baud, count, rate, limit, rate / limit))
    }
    await bus.close()
}
rtuSimulator.stop()
await pair.stop()

extension Array {
    func asyncSum(_ value: (Element) async -> Int) async -> Int {
        var total = 0
        for element in self { total += await value(element) }
        return total
    }
}
