import Foundation

/// One Modbus link (a TCP connection or a serial port) and everything on it.
///
/// Every request runs on the bus's own thread, one at a time, so a bus is safe to
/// share between pollers and charger drivers: requests are serialised, and a
/// request and its retries are never interleaved with another device's request.
/// On RTU the bus re-opens the port with a device's own line settings when they
/// differ from the previous request's.
public final class ModbusBus: Sendable {
    public let link: ModbusLink
    public let options: BusOptions
    private let worker: SerialWorker
    private let state: WorkerConfined

    public init(link: ModbusLink, options: BusOptions = BusOptions()) {
        self.link = link
        self.options = options
        worker = SerialWorker(name: "modbus \(link)")
        state = WorkerConfined()
    }

    deinit { worker.stop() }

    // MARK: Requests

    public func readRegisters(_ table: RegisterTable, address: UInt16, count: Int, target: BusTarget) async throws(ModbusError)
        -> [UInt16]
    {
        guard !table.isBitTable, (1...125).contains(count), Int(address) + count <= 65536 else {
            throw .invalidRequest("cannot read \(count) registers at \(address)")
        }
        return try await transact(target) { ctx throws(ModbusError) in try ctx.readRegisters(table, address: address, count: count) }
    }

    public func readBits(_ table: RegisterTable, address: UInt16, count: Int, target: BusTarget) async throws(ModbusError)
        -> [Bool]
    {
        guard table.isBitTable, (1...2000).contains(count), Int(address) + count <= 65536 else {
            throw .invalidRequest("cannot read \(count) bits at \(address)")
        }
        return try await transact(target) { ctx throws(ModbusError) in try ctx.readBits(table, address: address, count: count) }
    }

    /// Function 06.
    public func writeRegister(address: UInt16, value: UInt16, target: BusTarget) async throws(ModbusError) {
        try await transact(target) { ctx throws(ModbusError) in try ctx.writeRegister(address: address, value: value) }
    }

    /// Function 16: several registers in one request (devices refuse partial multi-register values).
    public func writeRegisters(address: UInt16, values: [UInt16], target: BusTarget) async throws(ModbusError) {
        guard (1...123).contains(values.count), Int(address) + values.count <= 65536 else {
            throw .invalidRequest("cannot write \(values.count) registers at \(address)")
        }
        try await transact(target) { ctx throws(ModbusError) in try ctx.writeRegisters(address: address, values: values) }
    }

    /// Function 05.
    public func writeCoil(address: UInt16, on: Bool, target: BusTarget) async throws(ModbusError) {
        try await transact(target) { ctx throws(ModbusError) in try ctx.writeCoil(address: address, on: on) }
    }

    /// RTU: the line settings the port is open with now, and how often the bus
    /// re-opened it to switch settings (for diagnostics and tests).
    public func lineState() async -> (settings: SerialSettings?, switches: Int) {
        await withCheckedContinuation { (done: CheckedContinuation<(SerialSettings?, Int), Never>) in
            let submitted = worker.submit { [state] in done.resume(returning: (state.contextSettings, state.settingSwitches)) }
            if !submitted { done.resume(returning: (nil, 0)) }
        }
    }

    /// Closes the link and ends the bus thread; later requests fail with `.closed`.
    public func close() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let submitted = worker.submit { [state] in
                state.closed = true
                state.context?.close()
                state.context = nil
                done.resume()
            }
            if !submitted { done.resume() }
        }
        worker.stop()
    }

    // MARK: Transaction

    private func transact<T: Sendable>(
        _ target: BusTarget, _ operation: @escaping @Sendable (ModbusContext) throws(ModbusError) -> T
    ) async throws(ModbusError) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, ModbusError>, Never>) in
            let submitted = worker.submit { [state, link, options] in
                continuation.resume(returning: state.run(operation, target: target, link: link, options: options))
            }
            if !submitted { continuation.resume(returning: .failure(.closed)) }
        }
        return try result.get()
    }
}

/// The bus's mutable state. Only the bus worker thread touches it (hence unchecked).
private final class WorkerConfined: @unchecked Sendable {
    var context: ModbusContext?
    var contextSettings: SerialSettings?
    var settingSwitches = 0
    var lastFrameEnd: ContinuousClock.Instant?
    var closed = false

    func run<T>(_ operation: (ModbusContext) throws(ModbusError) -> T, target: BusTarget, link: ModbusLink,
                options: BusOptions) -> Result<T, ModbusError>
    {
        if closed { return .failure(.closed) }
        var lastError = ModbusError.timeout
        for attempt in 1...options.retry.attempts {
            if attempt > 1 { sleepThread(options.retry.backoff(beforeRetry: attempt - 1)) }
            do throws(ModbusError) {
                let ctx = try openContext(for: target, link: link, options: options)
                waitInterFrameDelay(options.interFrameDelay)
                try ctx.setUnit(target.unitID)
                defer { lastFrameEnd = .now }
                return .success(try operation(ctx))
            } catch {
                lastError = error
                if error.needsReconnect { context?.close() }
                if !error.isRetryable { break }
            }
        }
        return .failure(lastError)
    }

    private func openContext(for target: BusTarget, link: ModbusLink, options: BusOptions) throws(ModbusError) -> ModbusContext {
        switch link {
        case .tcp(let host, let port):
            if context == nil { context = try ModbusContext(host: host, port: port) }
        case .rtu(let device, let defaults):
            let wanted = target.serial ?? defaults
            if context == nil || contextSettings != wanted {
                // Line settings are fixed when libmodbus opens the port: switching means re-opening.
                if context != nil { settingSwitches += 1 }
                context = nil
                context = try ModbusContext(device: device, serial: wanted)
                contextSettings = wanted
            }
        }
        guard let ctx = context else { throw .closed }
        if !ctx.isConnected {
            ctx.configure(options)
            try ctx.connect()
            sleepThread(options.connectDelay)
        }
        return ctx
    }

    private func waitInterFrameDelay(_ delay: Duration) {
        guard delay > .zero, let last = lastFrameEnd else { return }
        let elapsed = ContinuousClock.now - last
        if elapsed < delay { sleepThread(delay - elapsed) }
    }
}
