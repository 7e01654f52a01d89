import OrderDeskCore

/// How order fields that have no column of their own are written as text, the same in every
/// store (SQLite and PostgreSQL): lines, escalation episodes and watchers.
enum StoreEncoding {
    /// Lines as `sku:qty:cents` joined by commas; SKUs never hold `:` or `,` (the CAPTURE syntax forbids them).
    static func encode(_ lines: [OrderLine]) -> String {
        lines.map { "\($0.sku):\($0.quantity):\($0.unitPrice.cents)" }.joined(separator: ",")
    }

    /// Episodes as `queue@since@level` joined by `;`.
    static func encode(_ episodes: [EscalationEpisode]) -> String {
        episodes.map { "\($0.queue.wireName)@\($0.since.milliseconds)@\($0.level.rawValue)" }.joined(separator: ";")
    }

    static func decodeEpisodes(_ text: String) throws -> [EscalationEpisode] {
        try text.split(separator: ";").map { item in
            let parts = item.split(separator: "@")
            guard parts.count == 3, let queue = QueueName(wireName: String(parts[0])), let since = Int64(parts[1]),
                  let rawLevel = Int(parts[2]), let level = EscalationLevel(rawValue: rawLevel) else {
                throw StoreError.corrupt("episode \(item)")
            }
            return EscalationEpisode(queue: queue, since: Instant(milliseconds: since), level: level)
        }
    }

    /// Reads `sku:qty:cents,...` byte by byte: a restart decodes a million of these.
    static func decodeLines(_ text: String) throws -> [OrderLine] {
        var text = text
        return try text.withUTF8 { try decodeLines($0) }
    }

    /// The same from the bytes of a column, without a `String` first (`OrderRowReader`).
    static func decodeLines(_ bytes: UnsafeBufferPointer<UInt8>) throws -> [OrderLine] {
        func corrupt() -> StoreError { StoreError.corrupt("order lines \(String(decoding: bytes, as: UTF8.self))") }
        var lines: [OrderLine] = []
        lines.reserveCapacity(bytes.isEmpty ? 0 : bytes.count(where: { $0 == UInt8(ascii: ",") }) + 1)
        var index = 0
        if bytes.last == UInt8(ascii: ",") { throw StoreError.corrupt("order lines end in a comma") }
        /// The digits at `index`, which must end at `terminator` (or at the end, for the last number).
        func number(endingAt terminator: UInt8) throws(StoreError) -> Int64 {
            var value: Int64 = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                // A damaged file's 20-digit quantity is refused, never a trap.
                let (shifted, overflowed) = value.multipliedReportingOverflow(by: 10)
                let (next, overflowedAgain) = shifted.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
                guard !overflowed, !overflowedAgain else { throw corrupt() }
                value = next
                index += 1
                digits += 1
            }
            guard digits > 0, index == bytes.count ? terminator == UInt8(ascii: ",") : bytes[index] == terminator else { throw corrupt() }
            index += 1
            return value
        }
        while index < bytes.count {
            let skuStart = index
            while index < bytes.count, bytes[index] != UInt8(ascii: ":") { index += 1 }
            let skuEnd = index
            index += 1
            let quantity = try number(endingAt: UInt8(ascii: ":"))
            let cents = try number(endingAt: UInt8(ascii: ","))
            guard skuEnd > skuStart else { throw corrupt() }
            lines.append(OrderLine(sku: String(decoding: UnsafeBufferPointer(rebasing: bytes[skuStart..<skuEnd]), as: UTF8.self),
                                   quantity: Int(quantity), unitPrice: Money(cents: cents)))
        }
        return lines
    }

    /// A stored id or token (never negative when the desk wrote it) as unsigned; a damaged
    /// file's negative one is refused, never a trap.
    static func unsigned(_ value: Int64, _ what: @autoclosure () -> String) throws -> UInt64 {
        guard let unsigned = UInt64(exactly: value) else { throw StoreError.corrupt("\(what()) \(value)") }
        return unsigned
    }

    /// Watchers as names joined by spaces, sorted so equal sets write equal text.
    static func encode(watchers: Set<String>) -> String {
        watchers.sorted().joined(separator: " ")
    }

    static func decodeWatchers(_ text: String) -> Set<String> {
        Set(text.split(separator: " ").map(String.init))
    }
}
