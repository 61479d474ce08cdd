/// A QoS ≥ 1 message handed to libmosquitto by `MQTTClient.send`, in call order,
/// whose acknowledgement can be awaited later. Lets a sender keep a window of
/// messages in flight without losing their order (tasks that each call
/// `publishAndWait` would race to the socket).
public final class MQTTDelivery: Sendable {
    private let state = Locked<(result: Result<Void, MQTTError>?, waiter: CheckedContinuation<Void, any Error>?)>((nil, nil))

    init() {}

    /// The first outcome wins; later ones are ignored.
    func complete(_ result: Result<Void, MQTTError>) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            guard s.result == nil else { return nil }
            s.result = result
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(with: result.mapError { $0 as any Error })
    }

    /// Returns when the broker acknowledged the message (PUBACK/PUBCOMP); throws
    /// `MQTTError.library` with the reason code (≥ 0x80) when it refused it,
    /// `MQTTError.shutDown` when the client stopped, or when the waiting task is
    /// cancelled (the message may still be acknowledged later; that is then ignored).
    public func acknowledged() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let done = state.withLock { s -> Result<Void, MQTTError>? in
                    if let r = s.result { return r }
                    s.waiter = c
                    return nil
                }
                if let done { c.resume(with: done.mapError { $0 as any Error }) }
            }
        } onCancel: {
            complete(.failure(.shutDown))
        }
    }
}
