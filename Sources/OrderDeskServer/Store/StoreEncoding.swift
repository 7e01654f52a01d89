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
        return try text.withUTF8 { bytes -> [OrderLine] in
            var lines: [OrderLine] = []
            var index = 0
            if bytes.last == UInt8(ascii: ",") { throw StoreError.corrupt("order lines end in a comma") }
            while index < bytes.count {
                let skuStart = index
                while index < bytes.count, bytes[index] != UInt8(ascii: ":") { index += 1 }
                let skuEnd = index
                index += 1
                var numbers: [Int64] = [0, 0]
                for slot in 0..<2 {
                    var digits = 0
                    while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                        numbers[slot] = numbers[slot] * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                        index += 1
                        digits += 1
                    }
                    let expected = slot == 0 ? UInt8(ascii: ":") : UInt8(ascii: ",")
                    guard digits > 0, index == bytes.count ? slot == 1 : bytes[index] == expected else {
                        throw StoreError.corrupt("order lines \(String(decoding: bytes, as: UTF8.self))")
                    }
                    index += 1
                }
                guard skuEnd > skuStart else { throw StoreError.corrupt("order lines \(String(decoding: bytes, as: UTF8.self))") }
                lines.append(OrderLine(sku: String(decoding: UnsafeBufferPointer(rebasing: bytes[skuStart..<skuEnd]), as: UTF8.self),
                                       quantity: Int(numbers[0]), unitPrice: Money(cents: numbers[1])))
            }
            return lines
        }
    }

    /// Watchers as names joined by spaces, sorted so equal sets write equal text.
    static func encode(watchers: Set<String>) -> String {
        watchers.sorted().joined(separator: " ")
    }

    static func decodeWatchers(_ text: String) -> Set<String> {
        Set(text.split(separator: " ").map(String.init))
    }
}
