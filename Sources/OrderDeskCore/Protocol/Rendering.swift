import OrderDeskWire

/// Fields of the replies not yet given a typed `Answer` (METRICS and the server's HELP, RESUME,
/// UNLOCK), joined as `key=value` words; everything else is written by `WireEncoder.swift`.
public enum Rendering {
    public static func join(_ fields: [(String, String)]) -> String {
        var writer = WireWriter(capacity: fields.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 })
        for (key, value) in fields { writer.field(named: key, value) }
        return writer.text
    }
}
