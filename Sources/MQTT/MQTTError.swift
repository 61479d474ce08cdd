/// Everything the client can fail with, each with a message an operator can act on.
public enum MQTTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broker refused the connection (bad credentials, not authorised, …).
    case connectionRefused(code: Int, reason: String)
    /// TLS set-up or handshake failed (wrong CA, bad certificate, hostname mismatch).
    case tls(String)
    /// TCP-level failure: refused, unreachable, lost.
    case network(String)
    /// No connection was made within the time asked for.
    case timeout(String)
    case invalidTopic(String, reason: String)
    case invalidTopicFilter(String, reason: String)
    case invalidConfiguration(String)
    /// The broker refused a subscription (reason code ≥ 0x80).
    case subscriptionRefused(filter: String, code: Int)
    /// The offline queue is full and its policy is to refuse new messages.
    case offlineQueueFull(capacity: Int)
    /// The client was shut down.
    case shutDown
    /// Any other libmosquitto error, with its text.
    case library(code: Int32, message: String)

    public var description: String {
        switch self {
        case .connectionRefused(let code, let reason): "broker refused the connection: \(reason) (code \(code))"
        case .tls(let m): "TLS error: \(m)"
        case .network(let m): "network error: \(m)"
        case .timeout(let m): "timed out: \(m)"
        case .invalidTopic(let t, let r): "invalid topic '\(t)': \(r)"
        case .invalidTopicFilter(let t, let r): "invalid topic filter '\(t)': \(r)"
        case .invalidConfiguration(let m): "invalid MQTT configuration: \(m)"
        case .subscriptionRefused(let f, let c): "broker refused subscription to '\(f)' (reason code \(c))"
        case .offlineQueueFull(let c): "offline queue full (\(c) messages); message refused"
        case .shutDown: "the MQTT client has been shut down"
        case .library(let code, let m): "libmosquitto error \(code): \(m)"
        }
    }
}
