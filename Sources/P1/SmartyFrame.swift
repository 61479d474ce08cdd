import Crypto
import Foundation

/// A Luxembourg Smarty general-glo-ciphering frame:
/// `DB 08 <system title> 82 <L> <SC> <frame counter> <ciphertext> <12-byte tag>`.
public struct SmartyFrame: Sendable, Hashable {
    public var systemTitle: [UInt8]
    public var securityControl: UInt8
    public var frameCounter: UInt32
    public var ciphertext: [UInt8]
    public var tag: [UInt8]

    /// Parses one whole frame (as `SmartyFrameSplitter` hands them out).
    public init(bytes: [UInt8]) throws(SmartyFrameError) {
        guard bytes.count >= 13, bytes[0] == 0xDB, bytes[1] == 0x08,
            let (length, headerEnd) = Self.berLength(bytes, at: 10),
            length >= 17, bytes.count == headerEnd + length
        else { throw .notAFrame }
        systemTitle = Array(bytes[2..<10])
        securityControl = bytes[headerEnd]
        frameCounter = bytes[(headerEnd + 1)..<(headerEnd + 5)].reduce(0) { $0 << 8 | UInt32($1) }
        ciphertext = Array(bytes[(headerEnd + 5)..<(bytes.count - 12)])
        tag = Array(bytes[(bytes.count - 12)...])
    }

    /// BER length at `offset`: short form, `0x81 n` or `0x82 hi lo`. Returns the
    /// length and where the content starts.
    static func berLength(_ bytes: [UInt8], at offset: Int) -> (Int, Int)? {
        guard offset < bytes.count else { return nil }
        let first = bytes[offset]
        if first < 0x80 { return (Int(first), offset + 1) }
        let count = Int(first & 0x7F)
        guard count >= 1, count <= 2, offset + count < bytes.count else { return nil }
        var length = 0
        for k in 1...count { length = length << 8 | Int(bytes[offset + k]) }
        return (length, offset + 1 + count)
    }
}

/// Decrypts Smarty frames with the per-meter key the DSO supplies.
public struct SmartyDecryptor: Sendable {
    /// How the 12-byte GCM tag is checked.
    public enum TagCheck: Sendable, Hashable {
        /// AAD = security control byte ‖ authentication key (the Smarty specification).
        case authenticationKey([UInt8])
        /// The tag covers the ciphertext only (no AAD), as some test generators do.
        case noAdditionalData
        /// Decrypt without checking the tag; rely on the inner P1 CRC.
        case skip
    }

    /// The fixed, public Luxmetering authentication key.
    public static let luxmeteringAuthenticationKey: [UInt8] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF,
    ]

    /// Kept as bytes: `SymmetricKey` is not Sendable.
    private let keyBytes: [UInt8]
    public let tagCheck: TagCheck

    public init(key: [UInt8], tagCheck: TagCheck = .authenticationKey(luxmeteringAuthenticationKey))
        throws(SmartyFrameError)
    {
        guard key.count == 16 else { throw .invalidKey }
        self.keyBytes = key
        self.tagCheck = tagCheck
    }

    /// `"0123456789abcdef0123456789abcdef"` → key bytes; nil unless 32 hex digits.
    public static func keyBytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { return nil }
        var out: [UInt8] = []
        for k in stride(from: 0, to: 32, by: 2) {
            guard let hi = ASCII.hexValue(digits[k]), let lo = ASCII.hexValue(digits[k + 1]) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }

    /// The plaintext P1 telegram inside the frame (still to be parsed, with its own CRC).
    ///
    /// swift-crypto's AES-GCM only opens boxes with 16-byte tags, and Smarty sends
    /// 12. GCM encryption is AES-CTR from counter 2, so the keystream is what sealing
    /// zeros gives; the tag is then checked by sealing the recovered plaintext again
    /// with the same nonce and AAD and comparing the first 12 bytes of its tag.
    public func decrypt(_ frame: SmartyFrame) throws(SmartyFrameError) -> [UInt8] {
        guard frame.securityControl == 0x30 || frame.securityControl == 0x20 else {
            throw .unsupportedSecurityControl(frame.securityControl)
        }
        var iv = frame.systemTitle
        withUnsafeBytes(of: frame.frameCounter.bigEndian) { iv.append(contentsOf: $0) }
        let key = SymmetricKey(data: keyBytes)
        do {
            let nonce = try AES.GCM.Nonce(data: iv)
            let keystream = try AES.GCM.seal([UInt8](repeating: 0, count: frame.ciphertext.count), using: key, nonce: nonce)
            var plaintext = [UInt8](keystream.ciphertext)
            for k in plaintext.indices { plaintext[k] ^= frame.ciphertext[k] }

            let aad: [UInt8]?
            switch tagCheck {
            case .skip: aad = nil
            case .noAdditionalData: aad = []
            case .authenticationKey(let ak): aad = [frame.securityControl] + ak
            }
            if let aad, frame.securityControl == 0x30 {
                let resealed = try AES.GCM.seal(plaintext, using: key, nonce: nonce, authenticating: aad)
                guard Array(resealed.tag.prefix(12)) == frame.tag else { throw SmartyFrameError.authenticationFailed }
            }
            return plaintext
        } catch let error as SmartyFrameError {
            throw error
        } catch {
            throw .authenticationFailed
        }
    }
}

/// Cuts a byte stream into Smarty frames: finds `DB 08`, reads the length, takes
/// 13 + L bytes; resynchronises on the next `DB 08` after garbage.
public struct SmartyFrameSplitter: Sendable {
    public private(set) var discardedBytes = 0
    private var buffer: [UInt8] = []
    /// Longest frame accepted (a plaintext telegram is a few kB).
    public var maximumFrameBytes = 16_384

    public init() {}

    public mutating func append(_ chunk: some Sequence<UInt8>) -> [[UInt8]] {
        buffer.append(contentsOf: chunk)
        var frames: [[UInt8]] = []
        while true {
            guard let start = startIndex() else {
                // Keep a trailing 0xDB: it may be the start of the next frame.
                let keep = buffer.last == 0xDB ? 1 : 0
                discardedBytes += buffer.count - keep
                buffer.removeFirst(buffer.count - keep)
                return frames
            }
            if start > 0 {
                discardedBytes += start
                buffer.removeFirst(start)
            }
            guard buffer.count >= 13 else { return frames }
            guard let (length, headerEnd) = SmartyFrame.berLength(buffer, at: 10),
                headerEnd + length <= maximumFrameBytes
            else {
                discardedBytes += 2
                buffer.removeFirst(2)
                continue
            }
            guard buffer.count >= headerEnd + length else { return frames }
            frames.append(Array(buffer[0..<(headerEnd + length)]))
            buffer.removeFirst(headerEnd + length)
        }
    }

    private func startIndex() -> Int? {
        var i = 0
        while i + 1 < buffer.count {
            if buffer[i] == 0xDB, buffer[i + 1] == 0x08 { return i }
            i += 1
        }
        return nil
    }
}
