import Foundation
import OrderDeskWire

/// Turns a METRICS reply into Prometheus text exposition format (version 0.0.4).
public enum PrometheusFormat {
    /// `lines` are the reply's data lines without their `* ` prefix.
    public static func render(_ lines: [String]) -> String {
        var families: [(name: String, help: String, type: String, samples: [String])] = []
        func add(_ name: String, _ help: String, type: String = "gauge", labels: [(String, String)] = [], value: String?) {
            guard let value else { return }
            let labelText = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
            let sample = "orderdesk_\(name)\(labelText) \(value)"
            if let index = families.firstIndex(where: { $0.name == name }) {
                families[index].samples.append(sample)
            } else {
                families.append((name, help, type, [sample]))
            }
        }
        for line in lines {
            let tokens = (try? Tokenizer.tokens(line)) ?? []
            guard let kind = tokens.first?.value else { continue }
            let fields = ServerLine.fields(tokens.dropFirst()[...])
            switch kind {
            case "queue":
                let labels = [("queue", fields["name"] ?? "")]
                add("queue_depth", "Orders in the queue.", labels: labels, value: fields["depth"])
                add("queue_oldest_seconds", "Age of the oldest order in the queue.", labels: labels, value: fields["oldest-seconds"])
                add("queue_stuck_orders", "Orders stuck in the queue.", labels: labels, value: fields["stuck"])
            case "cycle":
                add("cycle_seconds", "Order cycle time, capture to shipped, over the window.", type: "summary", labels: [("quantile", "0.5")], value: fields["p50-seconds"])
                add("cycle_seconds", "", type: "summary", labels: [("quantile", "0.9")], value: fields["p90-seconds"])
                add("shipped_orders", "Orders shipped in the window.", value: fields["shipped"])
            case "hold":
                let type = fields["type"] ?? ""
                add("hold_resolution_seconds", "Time from placing a hold to releasing it.", type: "summary", labels: [("type", type), ("quantile", "0.5")], value: fields["p50-seconds"])
                add("hold_resolution_seconds", "", type: "summary", labels: [("type", type), ("quantile", "0.9")], value: fields["p90-seconds"])
                add("holds_open", "Holds not yet released.", labels: [("type", type)], value: fields["open"])
                add("holds_resolved", "Holds released in the window.", labels: [("type", type)], value: fields["resolved"])
            case "clean-ship":
                add("shipped_without_hold_ratio", "Share of shipped orders that never had a hold.", value: fields["share"])
            case "processor":
                add("processor_released_orders", "Orders each processor released to fulfilment in the window.", labels: [("user", fields["user"] ?? "")], value: fields["released"])
            case "ops":
                add("connections", "Open connections.", value: fields["connections"])
                add("sessions", "Logged-in sessions.", value: fields["sessions"])
                add("commands_total", "Commands received.", type: "counter", value: fields["commands"])
                add("commands_per_second", "Commands per second over the last 10 s.", value: fields["commands-per-second"])
                add("pushes_total", "Events pushed to sessions.", type: "counter", value: fields["pushes"])
                add("slow_sessions_dropped_total", "Sessions disconnected for not reading.", type: "counter", value: fields["slow-dropped"])
                add("commits_total", "Store transactions committed.", type: "counter", value: fields["commits"])
                add("commit_failures_total", "Store transactions that failed.", type: "counter", value: fields["commit-failures"])
                add("commit_latency_ms", "Commit latency.", type: "summary", labels: [("quantile", "0.5")], value: fields["commit-p50-ms"])
                add("commit_latency_ms", "", type: "summary", labels: [("quantile", "0.99")], value: fields["commit-p99-ms"])
            default:
                continue
            }
        }
        var text = ""
        for family in families {
            if !family.help.isEmpty { text += "# HELP orderdesk_\(family.name) \(family.help)\n" }
            text += "# TYPE orderdesk_\(family.name) \(family.type)\n"
            for sample in family.samples { text += sample + "\n" }
        }
        return text
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
