/// The cloud's topics for one site, version 1 of the public API (docs/bridge.md):
/// `<prefix>/<site>/v1/up/<stream>` from the site (stream = the local topic below
/// `<prefix>/<site>/`, plus `gap` and `result`), `<prefix>/<site>/v1/command` to it.
/// The site id is always the level after the prefix, so a broker ACL or a shared
/// subscription can select sites by it.
public struct CloudTopics: Sendable, Hashable {
    public static let version = "v1"
    public let prefix: String
    public let site: String

    public init(prefix: String = "phasor", site: String) {
        self.prefix = prefix
        self.site = site
    }

    public var root: String { "\(prefix)/\(site)/\(Self.version)" }
    public func up(_ stream: String) -> String { "\(root)/up/\(stream)" }
    public var command: String { "\(root)/command" }
    /// Where the site answers commands: stream `result`.
    public static let resultStream = "result"
    /// Where the outbox records what it dropped: stream `gap`.
    public static let gapStream = "gap"
}
