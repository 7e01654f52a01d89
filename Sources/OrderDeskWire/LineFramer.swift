/// Splits a byte stream into protocol lines.
///
/// A line ends at LF; one CR right before the LF is dropped. A line longer than
/// `maximumLineLength` bytes (not counting the line end) is discarded up to its newline and
/// reported once as `.tooLong`, so the connection stays usable. The framer never holds more
/// than `maximumLineLength` bytes of a pending line, whatever a peer sends.
public struct LineFramer: Sendable {
    /// One framed unit of input.
    public enum Frame: Equatable, Sendable {
        /// A complete line, without its line end.
        case line(String)
        /// A line that was not valid UTF-8; its bytes were dropped.
        case invalidUTF8
        /// A line longer than the limit; its bytes were dropped.
        case tooLong
    }

    public let maximumLineLength: Int
    private var pending: [UInt8] = []
    /// True while the rest of an overlong line is being skipped.
    private var isDiscarding = false

    public init(maximumLineLength: Int) {
        precondition(maximumLineLength > 0)
        self.maximumLineLength = maximumLineLength
    }

    /// Bytes of an unfinished line held so far.
    public var bufferedByteCount: Int { pending.count }

    /// Feeds bytes in; returns the frames they complete, in order.
    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) -> [Frame] where Bytes.Element == UInt8 {
        if let frames = bytes.withContiguousStorageIfAvailable({ appendContiguous($0) }) { return frames }
        return appendByteByByte(bytes)
    }

    /// `append` for bytes in one buffer (a socket read): each line's bytes are found with one
    /// scan and copied at once, with the same rules as `appendByteByByte`, which a test holds it to.
    mutating func appendContiguous(_ buffer: UnsafeBufferPointer<UInt8>) -> [Frame] {
        var frames: [Frame] = []
        var start = 0
        while start < buffer.count {
            var end = start
            while end < buffer.count, buffer[end] != UInt8(ascii: "\n") { end += 1 }
            if !isDiscarding {
                let count = pending.count + (end - start)
                let last = end > start ? buffer[end - 1] : pending.last
                // Up to the limit, and one byte beyond it only for a CR that precedes the LF.
                if count <= maximumLineLength || (count == maximumLineLength + 1 && last == UInt8(ascii: "\r")) {
                    pending.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<end]))
                } else {
                    isDiscarding = true
                    pending.removeAll(keepingCapacity: false)
                }
            }
            guard end < buffer.count else { break }  // the line goes on in the next read
            frames.append(endLine())
            start = end + 1
        }
        return frames
    }

    /// `append` one byte at a time: for sequences that are not one buffer.
    mutating func appendByteByByte<Bytes: Sequence>(_ bytes: Bytes) -> [Frame] where Bytes.Element == UInt8 {
        var frames: [Frame] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                frames.append(endLine())
                continue
            }
            if isDiscarding { continue }
            // Allow one byte beyond the limit for a CR that precedes the LF.
            if pending.count >= maximumLineLength + 1 || (pending.count == maximumLineLength && byte != UInt8(ascii: "\r")) {
                isDiscarding = true
                pending.removeAll(keepingCapacity: false)
                continue
            }
            pending.append(byte)
        }
        return frames
    }

    /// At an LF: the line held so far as a frame (`.tooLong` if it was being skipped), and a fresh start.
    private mutating func endLine() -> Frame {
        defer { pending.removeAll(keepingCapacity: true) }
        if isDiscarding {
            isDiscarding = false
            return .tooLong
        }
        return Self.frame(pending)
    }

    private static func frame(_ raw: [UInt8]) -> Frame {
        var bytes = raw[...]
        if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
        guard let text = String(validating: bytes, as: UTF8.self) else { return .invalidUTF8 }
        return .line(text)
    }
}
