import CCurl
import Dispatch
import Foundation

/// HTTP and SMTP transfers through libcurl (TLS, STARTTLS, SMTP AUTH, proxies and
/// certificate checks done by a library every distribution maintains). A transfer
/// blocks, so it runs on a Dispatch queue, never on Swift's cooperative threads.
public enum Curl {
    private static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    private static let queue = DispatchQueue(label: "phasor.curl", attributes: .concurrent)

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public struct HTTPResponse: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    /// POSTs `body` to `url`; any status is returned (the caller decides what failed).
    public static func post(url: String, headers: [(String, String)], body: [UInt8], timeout: TimeInterval,
                            caFile: String? = nil) async throws -> HTTPResponse {
        let headerLines = headers.map { "\($0.0): \($0.1)" } + ["Expect:"]
        return try await run { handle, buffers in
            try set(handle, CURLOPT_URL, url)
            try set(handle, CURLOPT_POST, 1)
            try set(handle, CURLOPT_POSTFIELDSIZE, body.count)
            try set(handle, CURLOPT_COPYPOSTFIELDS, bytes: body)
            try set(handle, CURLOPT_HTTPHEADER, list: headerLines, buffers: buffers)
            try common(handle, timeout: timeout, caFile: caFile)
            try perform(handle, buffers)
            return HTTPResponse(status: phasor_curl_response_code(handle), body: buffers.received)
        }
    }

    public enum Security: Sendable { case starttls, tls, none }

    /// Sends one message by SMTP: `server` is `smtp://host:port`; with `.tls` the
    /// connection is TLS from the start (`smtps://`), with `.starttls` it is
    /// upgraded and refused when the server does not offer STARTTLS.
    public static func sendMail(server: String, security: Security, username: String?, password: String?, from: String,
                                to: [String], message: [UInt8], timeout: TimeInterval, caFile: String? = nil) async throws {
        let url = security == .tls && server.hasPrefix("smtp://") ? "smtps://" + server.dropFirst("smtp://".count) : server
        _ = try await run { handle, buffers in
            try set(handle, CURLOPT_URL, url)
            if security == .starttls { try set(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
            if let username { try set(handle, CURLOPT_USERNAME, username) }
            if let password { try set(handle, CURLOPT_PASSWORD, password) }
            try set(handle, CURLOPT_MAIL_FROM, "<\(address(from))>")
            try set(handle, CURLOPT_MAIL_RCPT, list: to.map { "<\(address($0))>" }, buffers: buffers)
            buffers.upload = message
            try check(phasor_curl_set_read(handle) { pointer, size, count, context in
                let buffers = Unmanaged<Buffers>.fromOpaque(context!).takeUnretainedValue()
                let n = min(size * count, buffers.upload.count - buffers.uploaded)
                buffers.upload.withUnsafeBytes { raw in
                    pointer!.withMemoryRebound(to: UInt8.self, capacity: n) {
                        $0.update(from: raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + buffers.uploaded, count: n)
                    }
                }
                buffers.uploaded += n
                return n
            })
            try check(phasor_curl_set_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(buffers).toOpaque()))
            try set(handle, CURLOPT_UPLOAD, 1)
            try common(handle, timeout: timeout, caFile: caFile)
            try perform(handle, buffers)
            return ()
        }
    }

    /// `Name <a@b>` → `a@b`.
    static func address(_ s: String) -> String {
        if let open = s.lastIndex(of: "<"), let close = s.lastIndex(of: ">"), open < close {
            return String(s[s.index(after: open)..<close])
        }
        return s.trimmingCharacters(in: .whitespaces)
    }

    // MARK: plumbing

    final class Buffers: @unchecked Sendable {
        var received: [UInt8] = []
        var upload: [UInt8] = []
        var uploaded = 0
        var lists: [UnsafeMutablePointer<curl_slist>] = []
        var error = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        deinit { lists.forEach { curl_slist_free_all($0) } }
    }

    private static func run<T: Sendable>(_ body: @escaping @Sendable (UnsafeMutableRawPointer, Buffers) throws -> T) async throws -> T {
        guard initialised else { throw Failure(message: "libcurl did not initialise") }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                guard let handle = curl_easy_init() else {
                    continuation.resume(throwing: Failure(message: "libcurl: no handle"))
                    return
                }
                defer { curl_easy_cleanup(handle) }
                let buffers = Buffers()
                continuation.resume(with: Result { try body(handle, buffers) })
            }
        }
    }

    private static func common(_ handle: UnsafeMutableRawPointer, timeout: TimeInterval, caFile: String?) throws {
        try set(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        try set(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(timeout, 10) * 1000))
        try set(handle, CURLOPT_NOSIGNAL, 1)
        if let caFile { try set(handle, CURLOPT_CAINFO, caFile) }
    }

    private static func perform(_ handle: UnsafeMutableRawPointer, _ buffers: Buffers) throws {
        try check(phasor_curl_set_write(handle) { pointer, size, count, context in
            let buffers = Unmanaged<Buffers>.fromOpaque(context!).takeUnretainedValue()
            let n = size * count
            pointer!.withMemoryRebound(to: UInt8.self, capacity: n) {
                buffers.received.append(contentsOf: UnsafeBufferPointer(start: $0, count: n))
            }
            return n
        })
        try check(phasor_curl_set_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(buffers).toOpaque()))
        let code = buffers.error.withUnsafeMutableBufferPointer { error -> CURLcode in
            _ = phasor_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, error.baseAddress)
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: buffers.error.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw Failure(message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
    }

    private static func check(_ code: CURLcode) throws {
        guard code == CURLE_OK else { throw Failure(message: String(cString: curl_easy_strerror(code))) }
    }

    private static func set(_ h: UnsafeMutableRawPointer, _ o: CURLoption, _ v: Int) throws { try check(phasor_curl_set_long(h, o, v)) }
    private static func set(_ h: UnsafeMutableRawPointer, _ o: CURLoption, _ v: String) throws { try check(phasor_curl_set_string(h, o, v)) }
    /// COPYPOSTFIELDS copies exactly POSTFIELDSIZE bytes, so a body with NUL bytes survives.
    private static func set(_ h: UnsafeMutableRawPointer, _ o: CURLoption, bytes: [UInt8]) throws {
        try bytes.withUnsafeBufferPointer { buffer in
            try check(phasor_curl_set_pointer(h, o, UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!)))
        }
    }
    private static func set(_ h: UnsafeMutableRawPointer, _ o: CURLoption, list: [String], buffers: Buffers) throws {
        var head: UnsafeMutablePointer<curl_slist>?
        for item in list { head = curl_slist_append(head, item) }
        if let head { buffers.lists.append(head) }
        try check(phasor_curl_set_slist(h, o, head))
    }
}
