import Foundation

/// The administrators' dashboard: METRICS as a screen to look at rather than read. Queue
/// depths and oldest ages as bars with the stuck count beside them, the order cycle, the share
/// shipped without a hold as a bar, hold resolution percentiles as bars on one scale (p50 solid,
/// on to p90 shaded), releases per processor and the server's counters.
///
/// Pure: it lays out `figures` for a terminal of `width` x `height` and never writes more than
/// `height` lines of at most `width - 1` columns (the last column stays free, so nothing wraps).
/// When rows are short, whole sections give way (the server line first, then the releases, the
/// holds and the cycle; one further down takes rows a bigger one left), never the queues; when
/// columns are short the bars narrow, then go.
public struct Dashboard: Sendable {
    public var figures: MetricsFigures
    /// Who and where (`ada@127.0.0.1:7878`), for the title line.
    public var source: String
    /// The last line: when the figures were fetched, how to leave (the app says).
    public var footer: String
    /// Said in yellow before the footer: why the figures are old (offline, an error).
    public var alert: String?
    public var style: Style
    public var timeZone: TimeZone

    public init(figures: MetricsFigures, source: String, footer: String, style: Style, timeZone: TimeZone = .current) {
        self.figures = figures
        self.source = source
        self.footer = footer
        self.style = style
        self.timeZone = timeZone
    }

    /// Widest a bar gets, however wide the terminal: past this, longer bars only cost eye travel.
    static let maximumBar = 60

    /// The screen, top to bottom: at most `height` lines, the footer on the last.
    public func lines(width: Int, height: Int) -> [String] {
        let columns = max(20, width - 1)
        guard height > 0 else { return [] }
        let title = [titleLine(columns)]
        let queues = queueLines(columns)
        var footerLine = Line(alert.map { $0 + "  " } ?? "", paint: style.yellow)
        footerLine.add(footer, paint: style.dim)
        let footer = [footerLine.rendered(columns)]
        // Sections after the queues, in screen order, each with its rank (lower stays longer).
        var optional: [(rank: Int, lines: [String])] = [(0, cycleLines(columns)), (1, holdLines(columns)), (3, releaseLines(columns)), (2, [serverLine(columns)])]
        optional.removeAll { $0.lines.isEmpty }
        var budget = height - title.count - queues.count - footer.count
        guard budget >= 0 else {
            // Not even the queues fit: as many of their lines as there is room for, then the footer.
            return Array((title + queues).prefix(height - 1)) + footer
        }
        var kept = Set<Int>()
        for section in optional.sorted(by: { $0.rank < $1.rank }) where section.lines.count <= budget {
            kept.insert(section.rank)
            budget -= section.lines.count
        }
        let sections = [title, queues] + optional.filter { kept.contains($0.rank) }.map(\.lines)
        // A blank line between sections while rows are left, from the top.
        var spaced: [String] = []
        for (index, section) in sections.enumerated() {
            if index > 0, budget > 0 {
                spaced.append("")
                budget -= 1
            }
            spaced += section
        }
        let fill = max(0, height - spaced.count - footer.count)
        return spaced + Array(repeating: "", count: fill) + footer
    }

    // MARK: Sections

    private var labelWidth: Int {
        let names = figures.queues.map(\.name) + figures.holds.map(\.type) + ["RELEASED", "SERVER"]
        return min(16, names.map { DisplayWidth.of($0) }.max() ?? 8)
    }

    private func titleLine(_ columns: Int) -> String {
        var line = Line("desk dashboard", paint: style.bold)
        line.add("  METRICS over \(figures.window) · \(source)", paint: style.dim)
        if let at = figures.at {
            let stamp = "at " + Self.clock(at, timeZone: timeZone)
            let gap = columns - line.width - DisplayWidth.of(stamp)
            if gap >= 2 { line.add(String(repeating: " ", count: gap) + stamp, paint: style.dim) }
        }
        return line.rendered(columns)
    }

    private func queueLines(_ columns: Int) -> [String] {
        let queues = figures.queues
        guard !queues.isEmpty else { return [Line("no queue figures in the reply", paint: style.dim).rendered(columns)] }
        let label = labelWidth
        let depthWidth = max(5, queues.map { String($0.depth).count }.max() ?? 0)
        let ageWidth = max(6, queues.map { DisplayWidth.of($0.oldest) }.max() ?? 0)
        let stuckWidth = max(5, queues.map { String($0.stuck ?? 0).count }.max() ?? 0)
        let fixed = label + 2 + depthWidth + 1 + 2 + ageWidth + 1 + 2 + stuckWidth
        let bar = Self.barWidth((columns - fixed) / 2)
        let maximumDepth = queues.map(\.depth).max() ?? 0
        let maximumAge = queues.map(\.oldestSeconds).max() ?? 0
        var header = Line(Self.pad("QUEUE", label), paint: style.dim)
        header.add("  " + Self.pad("DEPTH", depthWidth, right: true) + " " + String(repeating: " ", count: bar), paint: style.dim)
        header.add("  " + Self.pad("OLDEST", ageWidth, right: true) + " " + String(repeating: " ", count: bar), paint: style.dim)
        header.add("  " + Self.pad("STUCK", stuckWidth, right: true), paint: style.dim)
        var lines = [header.rendered(columns)]
        for queue in queues {
            let isStuck = (queue.stuck ?? 0) > 0
            var line = Line(Self.pad(queue.name, label), paint: style.bold)
            line.add("  " + Self.pad(String(queue.depth), depthWidth, right: true) + " ")
            line.add(Self.pad(Self.bar(Double(queue.depth), of: Double(maximumDepth), width: bar), bar), paint: style.cyan)
            line.add("  " + Self.pad(queue.depth == 0 ? "–" : queue.oldest, ageWidth, right: true) + " ")
            let style = self.style
            let agePaint: (String) -> String = isStuck ? { style.red($0) } : { style.yellow($0) }
            line.add(Self.pad(Self.bar(Double(queue.oldestSeconds), of: Double(maximumAge), width: bar), bar), paint: agePaint)
            let stuck = queue.stuck.map(String.init) ?? "–"
            let stuckPaint: (String) -> String = isStuck ? { style.bold(style.red($0)) } : { style.dim($0) }
            line.add("  " + Self.pad(stuck, stuckWidth, right: true), paint: stuckPaint)
            lines.append(line.rendered(columns))
        }
        return lines
    }

    private func cycleLines(_ columns: Int) -> [String] {
        let label = labelWidth
        var cycle = Line(Self.pad("CYCLE", label), paint: style.dim)
        if let times = figures.cycle {
            cycle.add("  capture → shipped  ")
            cycle.add("p50 " + times.p50, paint: style.bold)
            cycle.add("  ")
            cycle.add("p90 " + times.p90, paint: style.bold)
        } else {
            cycle.add("  capture → shipped  –")
        }
        cycle.add("  \(figures.shipped) shipped in \(figures.window)", paint: style.dim)
        var clean = Line(Self.pad("CLEAN", label), paint: style.dim)
        guard figures.shipped > 0, let share = figures.cleanShare.flatMap(Double.init) else {
            clean.add("  nothing shipped in the window", paint: style.dim)
            return [cycle.rendered(columns), clean.rendered(columns)]
        }
        let percent = "\(Int((share * 100).rounded()))%"
        clean.add("  " + Self.pad(percent, 4, right: true), paint: style.bold)
        clean.add(" shipped without a hold (\(figures.shippedWithoutHold) of \(figures.shipped))  ")
        let bar = Self.barWidth(min(40, columns - clean.width))
        if bar > 0 {
            let filled = Self.bar(share, of: 1, width: bar)
            clean.add(filled, paint: style.green)
            clean.add(String(repeating: "░", count: max(0, bar - DisplayWidth.of(filled))), paint: style.dim)
        }
        return [cycle.rendered(columns), clean.rendered(columns)]
    }

    private func holdLines(_ columns: Int) -> [String] {
        let holds = figures.holds
        guard !holds.isEmpty else { return [] }
        let label = labelWidth
        let openWidth = max(5, holds.map { String($0.open).count }.max() ?? 0)
        let resolvedWidth = max(8, holds.map { String($0.resolved).count }.max() ?? 0)
        let timeWidth = max(6, holds.compactMap { $0.resolution.map { max(DisplayWidth.of($0.p50), DisplayWidth.of($0.p90)) } }.max() ?? 0)
        let fixed = label + 2 + openWidth + 2 + resolvedWidth + 2 + timeWidth + 2 + timeWidth + 2
        let bar = Self.barWidth(columns - fixed)
        let scale = Double(holds.compactMap { $0.resolution?.p90Seconds }.max() ?? 0)
        var header = Line(Self.pad("HOLD", label) + "  " + Self.pad("OPEN", openWidth, right: true) + "  "
                          + Self.pad("RESOLVED", resolvedWidth, right: true) + "  " + Self.pad("P50", timeWidth, right: true)
                          + "  " + Self.pad("P90", timeWidth, right: true), paint: style.dim)
        if bar >= 12 { header.add("  placed → released: █ p50 ▒ p90", paint: style.dim) }
        var lines = [header.rendered(columns)]
        for hold in holds {
            var line = Line(Self.pad(hold.type, label), paint: style.bold)
            let style = self.style
            let openPaint: (String) -> String = hold.open > 0 ? { style.yellow($0) } : { style.dim($0) }
            line.add("  " + Self.pad(String(hold.open), openWidth, right: true), paint: openPaint)
            line.add("  " + Self.pad(String(hold.resolved), resolvedWidth, right: true))
            line.add("  " + Self.pad(hold.resolution?.p50 ?? "–", timeWidth, right: true))
            line.add("  " + Self.pad(hold.resolution?.p90 ?? "–", timeWidth, right: true))
            if let times = hold.resolution, bar > 0, scale > 0 {
                let solid = Self.bar(Double(times.p50Seconds), of: scale, width: bar)
                let whole = Self.bar(Double(times.p90Seconds), of: scale, width: bar)
                let shaded = max(0, DisplayWidth.of(whole) - DisplayWidth.of(solid))
                line.add("  ")
                line.add(solid, paint: style.magenta)
                line.add(String(repeating: "▒", count: shaded), paint: style.magenta)
            }
            lines.append(line.rendered(columns))
        }
        return lines
    }

    /// Releases per processor, most first, on at most two lines; the rest counted.
    private func releaseLines(_ columns: Int) -> [String] {
        let processors = figures.processors.sorted { $0.released != $1.released ? $0.released > $1.released : $0.user < $1.user }
        guard !processors.isEmpty else { return [] }
        let label = labelWidth
        let indent = label + 2
        let room = max(1, columns - indent)
        var rows: [[String]] = [[]]
        var used = 0
        for (user, released) in processors {
            let item = "\(user) \(released)"
            let needed = rows[rows.count - 1].isEmpty ? DisplayWidth.of(item) : used + 3 + DisplayWidth.of(item)
            if needed > room, !rows[rows.count - 1].isEmpty {
                rows.append([item])
                used = DisplayWidth.of(item)
            } else {
                rows[rows.count - 1].append(item)
                used = needed
            }
        }
        if rows.count > 2 {
            let hidden = rows.dropFirst(2).reduce(0) { $0 + $1.count }
            rows = Array(rows.prefix(2))
            rows[1].append("… \(hidden) more")
        }
        return rows.enumerated().map { index, items in
            var line = Line(index == 0 ? Self.pad("RELEASED", label) + "  " : String(repeating: " ", count: indent), paint: style.dim)
            line.add(items.joined(separator: " · "))
            if index == rows.count - 1 { line.add("  to fulfilment in \(figures.window)", paint: style.dim) }
            return line.rendered(columns)
        }
    }

    private func serverLine(_ columns: Int) -> String {
        let ops = figures.operations
        var line = Line(Self.pad("SERVER", labelWidth) + "  ", paint: style.dim)
        guard !ops.isEmpty else {
            line.add("no server counters", paint: style.dim)
            return line.rendered(columns)
        }
        func count(_ key: String, _ one: String, _ many: String) -> String? {
            ops[key].map { "\($0) " + ($0 == "1" ? one : many) }
        }
        // Most telling first; each part shown whole or not at all.
        var parts: [(text: String, paint: (String) -> String)] = []
        let style = self.style
        if let failures = ops["commit-failures"], failures != "0" { parts.append(("\(failures) commit failures", { style.red($0) })) }
        for part in [count("sessions", "session", "sessions"), ops["commands-per-second"].map { "\($0) cmd/s" },
                     ops["commit-p50-ms"].flatMap { p50 in ops["commit-p99-ms"].map { "commit p50/p99 \(p50)/\($0) ms" } },
                     ops["users-online"].map { "\($0) online" }, count("pushes", "push", "pushes"),
                     ops["slow-dropped"].flatMap { $0 == "0" ? nil : "\($0) slow dropped" }].compactMap({ $0 }) {
            parts.append((part, { $0 }))
        }
        for (index, part) in parts.enumerated() {
            let text = (index == 0 ? "" : " · ") + part.text
            guard line.width + DisplayWidth.of(text) <= columns else { continue }
            line.add(text, paint: part.paint)
        }
        return line.rendered(columns)
    }

    // MARK: Drawing helpers

    /// A bar width between 0 and `maximumBar`; under 4 columns a bar says nothing, so none.
    static func barWidth(_ available: Int) -> Int {
        available < 4 ? 0 : min(maximumBar, available)
    }

    private static let eighths = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]

    /// `value / maximum` of `width` columns in block characters, to an eighth of a column;
    /// any value above zero shows at least a sliver, zero shows nothing.
    static func bar(_ value: Double, of maximum: Double, width: Int) -> String {
        guard width > 0, maximum > 0, value > 0, value.isFinite, maximum.isFinite else { return "" }
        let total = Int((min(value, maximum) / maximum * Double(width * 8)).rounded())
        let full = total / 8
        let rest = total % 8
        var bar = String(repeating: "█", count: full)
        if rest > 0 { bar += eighths[rest - 1] }
        return bar.isEmpty ? eighths[0] : bar
    }

    static func pad(_ text: String, _ columns: Int, right: Bool = false) -> String {
        DisplayWidth.padded(DisplayWidth.truncated(text, to: columns), to: columns, alignRight: right)
    }

    /// `14:05:09` in `timeZone`.
    static func clock(_ date: Date, timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
        return [parts.hour, parts.minute, parts.second].map { value in
            let number = value ?? 0
            return number < 10 ? "0\(number)" : "\(number)"
        }.joined(separator: ":")
    }

    /// A line built from painted parts, measured in plain columns, cut to fit before painting.
    struct Line {
        private var parts: [(text: String, paint: (String) -> String)] = []
        private(set) var width = 0

        init(_ text: String, paint: @escaping (String) -> String = { $0 }) { add(text, paint: paint) }

        mutating func add(_ text: String, paint: @escaping (String) -> String = { $0 }) {
            parts.append((text, paint))
            width += DisplayWidth.of(text)
        }

        /// At most `columns` columns; trailing spaces trimmed.
        func rendered(_ columns: Int) -> String {
            var out: [(String, (String) -> String)] = []
            var used = 0
            for part in parts {
                let partWidth = DisplayWidth.of(part.text)
                if used + partWidth > columns {
                    out.append((DisplayWidth.truncated(part.text, to: max(0, columns - used)), part.paint))
                    break
                }
                out.append(part)
                used += partWidth
            }
            // Trailing spaces go (painted or not), so lines end with what they show.
            while let last = out.last {
                var text = last.0
                while text.hasSuffix(" ") { text.removeLast() }
                if text.isEmpty {
                    out.removeLast()
                    continue
                }
                out[out.count - 1].0 = text
                break
            }
            return out.map { $0.1($0.0) }.joined()
        }
    }
}
