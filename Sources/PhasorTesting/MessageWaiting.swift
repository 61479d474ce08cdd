import MQTT

extension MQTTSubscription {
    /// The next message whose payload satisfies `predicate`, or nil after `timeout`.
    /// A timeout cancels the iteration, and a cancelled stream ends: after a nil the
    /// subscription delivers nothing more. To poll, collect in a task instead.
    public func next(timeout: Duration = .seconds(10),
                     where predicate: @escaping @Sendable (MQTTMessage) -> Bool = { _ in true }) async -> MQTTMessage? {
        let task = Task { () -> MQTTMessage? in
            for await m in self where predicate(m) { return m }
            return nil
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            task.cancel()
        }
        defer { timer.cancel() }
        return await task.value
    }
}
