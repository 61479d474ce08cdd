import Foundation
import PhasorCore

/// One configured device on a bus: polls its profile's registers into a `Reading`
/// and keeps its availability and statistics.
public actor ModbusDevice {
    public nonisolated let id: String
    public nonisolated let profile: ResolvedProfile
    public nonisolated let bus: ModbusBus
    public nonisolated let target: BusTarget
    private let clock: any WallClock
    private var lastPolled: [String: Date] = [:]
    public private(set) var health: DeviceHealth

    public init(id: String, profile: ResolvedProfile, bus: ModbusBus, target: BusTarget, offlineAfter: Int = 3,
                clock: any WallClock = SystemWallClock())
    {
        self.id = id
        self.profile = profile
        self.bus = bus
        self.target = target
        self.clock = clock
        health = DeviceHealth(offlineAfter: offlineAfter)
    }

    /// Poll groups whose interval has elapsed (all of them on the first call).
    public func dueGroups() -> Set<String> {
        let now = clock.now()
        return Set(profile.pollIntervals.filter { group, interval in
            guard let last = lastPolled[group] else { return true }
            return now.isDue(after: last, every: interval)
        }.keys)
    }

    /// Every poll group of the profile.
    public nonisolated var allGroups: Set<String> { Set(profile.pollIntervals.keys) }

    /// Reads the registers of `groups` (default: the due ones) and returns one Reading.
    /// A poll succeeds when at least one request was answered; it throws the last
    /// error when none was. After a timeout or link error the remaining requests
    /// are skipped: a silent device would otherwise cost one timeout per block.
    public func poll(groups: Set<String>? = nil) async throws(ModbusError) -> Reading {
        try await poll(groups: groups, recording: true)
    }

    /// `recording: false` leaves availability to the caller: a charger driver whose
    /// status read is more than this poll counts the whole read once.
    func poll(groups: Set<String>?, recording: Bool) async throws(ModbusError) -> Reading {
        let wanted = groups ?? dueGroups()
        let started = ContinuousClock.now
        let now = clock.now()
        for group in wanted { lastPolled[group] = now }
        let registers = profile.registers.filter { wanted.contains($0.pollGroup) }
        let blocks = ReadPlan.blocks(for: registers, maxGap: profile.profile.maxGap ?? 0,
                                     maxBlock: profile.profile.maxBlock ?? 125)
        // Nothing due (or nothing to read): no request was made, so health stays as it is.
        if blocks.isEmpty { return Reading(device: id, time: .local(now)) }
        var responses: [Int: [UInt16]] = [:]
        var lastError: ModbusError?
        for (index, block) in blocks.enumerated() {
            do throws(ModbusError) {
                responses[index] = try await read(block.table, address: block.start, count: block.count)
            } catch {
                lastError = error
                // An exception is the device answering about one block; anything else
                // (timeout, link down) would repeat for every block.
                if !isException(error) { break }
            }
        }
        let succeeded = !responses.isEmpty
        if recording { health.recordPoll(succeeded: succeeded, at: clock.now(), duration: ContinuousClock.now - started) }
        if !succeeded, let lastError { throw lastError }
        return ReadingDecoder.reading(device: id, time: .local(now), blocks: blocks, responses: responses)
    }

    private func isException(_ error: ModbusError) -> Bool {
        if case .exception = error { return true }
        return false
    }

    /// For drivers whose status read is more than a register poll (a charger's state,
    /// limit and measurement registers): counts towards availability like one poll.
    func recordStatusRead(succeeded: Bool, duration: Duration) {
        health.recordPoll(succeeded: succeeded, at: clock.now(), duration: duration)
    }

    /// A write the device did not answer (timeout, link down) counts like a failed
    /// poll: a charger that takes no setpoint is not online. Only reads bring a
    /// device back online.
    func recordUnansweredWrite() {
        health.recordFailure()
    }

    // MARK: Raw access (charger driver, device test), counted in the statistics

    public func read(_ table: RegisterTable, address: UInt16, count: Int) async throws(ModbusError) -> [UInt16] {
        do throws(ModbusError) {
            let words: [UInt16]
            if table.isBitTable {
                words = try await bus.readBits(table, address: address, count: count, target: target).map { $0 ? 1 : 0 }
            } else {
                words = try await bus.readRegisters(table, address: address, count: count, target: target)
            }
            health.recordRequest(error: nil)
            return words
        } catch {
            health.recordRequest(error: error)
            throw error
        }
    }

    public func read(_ layout: RegisterLayout) async throws(ModbusError) -> [UInt16] {
        try await read(layout.table, address: layout.address.value, count: layout.words)
    }

    /// Writes with the given function: 5 (coil, non-zero = on), 6 (one register) or 16.
    public func write(_ words: [UInt16], to address: UInt16, function: Int) async throws(ModbusError) {
        do throws(ModbusError) {
            switch function {
            case 5: try await bus.writeCoil(address: address, on: words.first.map { $0 != 0 } ?? false, target: target)
            case 6:
                guard words.count == 1 else { throw ModbusError.invalidRequest("function 6 writes exactly one register") }
                try await bus.writeRegister(address: address, value: words[0], target: target)
            case 16: try await bus.writeRegisters(address: address, values: words, target: target)
            default: throw ModbusError.invalidRequest("write function \(function) not supported")
            }
            health.recordRequest(error: nil)
        } catch {
            health.recordRequest(error: error)
            throw error
        }
    }
}
