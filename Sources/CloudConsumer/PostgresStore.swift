import BridgeCore
import CLibPQ
import Foundation

/// The consumer's PostgreSQL table, written through libpq. One row per
/// `(site, stream, seq)`: a message delivered twice (at-least-once, a consumer that
/// died before acknowledging) is inserted once (`ON CONFLICT DO NOTHING`).
public final class PostgresStore: @unchecked Sendable {
    let connection: OpaquePointer
    let lock = NSLock()

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static let schema = """
        CREATE TABLE IF NOT EXISTS phasor_messages (
            site text NOT NULL, stream text NOT NULL, seq bigint NOT NULL,
            src_ts timestamptz NOT NULL, hist boolean NOT NULL, class text NOT NULL,
            payload jsonb, received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (site, stream, seq));
        CREATE INDEX IF NOT EXISTS phasor_messages_time ON phasor_messages (site, stream, src_ts);
        """

    /// `conninfo`: libpq's, e.g. `host=/tmp/pg port=5432 dbname=phasor user=postgres`.
    public init(conninfo: String) throws {
        guard let c = PQconnectdb(conninfo) else { throw Failure(description: "PQconnectdb returned nothing") }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(c))
            PQfinish(c)
            throw Failure(description: "cannot connect to PostgreSQL: \(message)")
        }
        connection = c
        try execute(Self.schema)
    }

    deinit { PQfinish(connection) }

    public func execute(_ sql: String) throws {
        try lock.withLock {
            let result = PQexec(connection, sql)
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
                throw Failure(description: String(cString: PQerrorMessage(connection)))
            }
        }
    }

    /// Rows of a query as text (tests and the benchmark read counts and orders).
    public func query(_ sql: String) throws -> [[String]] {
        try lock.withLock {
            let result = PQexec(connection, sql)
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_TUPLES_OK else {
                throw Failure(description: String(cString: PQerrorMessage(connection)))
            }
            return (0..<PQntuples(result)).map { r in
                (0..<PQnfields(result)).map { f in String(cString: PQgetvalue(result, r, f)) }
            }
        }
    }

    /// Inserts the envelopes in one transaction; returns how many were new.
    @discardableResult
    public func insert(_ envelopes: [DecodedEnvelope]) throws -> Int {
        guard !envelopes.isEmpty else { return 0 }
        var params: [String?] = []
        var rows: [String] = []
        for (i, e) in envelopes.enumerated() {
            let b = i * 7
            rows.append("($\(b + 1), $\(b + 2), $\(b + 3)::bigint, $\(b + 4)::timestamptz, $\(b + 5)::boolean, $\(b + 6), $\(b + 7)::jsonb)")
            params += [e.site, e.stream, String(e.seq), e.sourceTime, e.historical ? "true" : "false", e.messageClass, e.payloadJSON]
        }
        let sql = "INSERT INTO phasor_messages(site, stream, seq, src_ts, hist, class, payload) VALUES "
            + rows.joined(separator: ",") + " ON CONFLICT (site, stream, seq) DO NOTHING"
        return try lock.withLock {
            let cStrings = params.map { $0.map { strdup($0) } ?? nil }
            defer { cStrings.forEach { free($0) } }
            var pointers = cStrings.map { UnsafePointer<CChar>($0) }
            let result = PQexecParams(connection, sql, Int32(params.count), nil, &pointers, nil, nil, 0)
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                throw Failure(description: String(cString: PQerrorMessage(connection)))
            }
            return Int(String(cString: PQcmdTuples(result))) ?? 0
        }
    }
}

/// The fields of a cloud envelope the store keeps (schemas/cloud-envelope.schema.json).
public struct DecodedEnvelope: Sendable, Hashable {
    public var site: String
    public var stream: String
    public var seq: Int64
    public var sourceTime: String
    public var historical: Bool
    public var messageClass: String
    /// The payload as JSON text (a text payload becomes a JSON string).
    public var payloadJSON: String

    public init?(_ bytes: [UInt8]) {
        guard let o = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any], o["v"] as? Int == 1,
            let site = o["site"] as? String, let stream = o["stream"] as? String, let seq = (o["seq"] as? NSNumber)?.int64Value,
            let src = o["src_ts"] as? String, let payload = o["payload"],
            let payloadData = try? JSONSerialization.data(withJSONObject: payload, options: .fragmentsAllowed)
        else { return nil }
        self.site = site
        self.stream = stream
        self.seq = seq
        self.sourceTime = src
        self.historical = o["hist"] as? Bool ?? false
        self.messageClass = o["class"] as? String ?? "event"
        self.payloadJSON = String(decoding: payloadData, as: UTF8.self)
    }
}
