import Foundation

/// What the dashboard shows and where its refreshing stands, while it is on screen.
struct DashboardMode {
    /// The METRICS line it asks with (`METRICS window=7d`).
    var command: String
    /// Seconds from one reply to the next question.
    var interval: Double
    var figures: MetricsFigures
    /// When the figures on screen arrived.
    var updated: Date
    /// Why the last refresh brought nothing new (offline, an error); nil when it did.
    var problem: String?
    /// Lines for the chat screen that came meanwhile (pushes, notices), printed when it closes.
    var held: [String] = []
    /// Which opening this is (`InteractiveApp.dashboardOpenings`).
    let opening: Int
    /// True while a redraw for lines just held is queued (a burst of pushes redraws once).
    var isRedrawQueued = false
}

/// `dashboard [window] [every=<seconds>]` (or F2): METRICS as a full screen, asked again every few seconds, over the chat
/// screen (the terminal's alternate screen, so the chat comes back as it was). Any key returns.
///
/// It never floods the server: one METRICS at a time, the next `interval` after the
/// reply to the last (a slow METRICS on a big desk makes the refresh slower, never more
/// frequent); offline, it waits as long before asking again. Pushes and notices meanwhile are
/// held and printed in the chat when the dashboard closes; pings still ring.
extension InteractiveApp {
    /// Seconds from one METRICS reply to the next question, unless `every=` says otherwise.
    static let dashboardInterval: Double = 5
    /// What `every=` may ask: never more often than every 2 s, at least every 10 minutes.
    static let dashboardIntervals: ClosedRange<Double> = 2...600
    static let maximumHeldLines = 500

    func openDashboard(_ arguments: [String]) {
        let style = renderer.style
        guard let (window, interval) = Self.dashboardArguments(arguments) else {
            show([style.yellow("dashboard [window] [every=<seconds>]: ") + "METRICS live, e.g. dashboard 7d every=30s "
                  + "(default 30d, every 5s; 2s to 10m); F2 opens it too; any key returns"])
            return
        }
        let command = "METRICS" + (window.map { " window=" + $0 } ?? "")
        let sent = session.send(command) { [unowned self] reply in
            guard self.dashboard == nil else { return }
            // A refusal (not an admin, a bad window) is shown in the chat, which stays.
            guard let figures = MetricsFigures(reply) else {
                self.show(reply)
                return
            }
            self.dashboardOpenings += 1
            self.dashboard = DashboardMode(command: command, interval: interval, figures: figures, updated: Date(),
                                           opening: self.dashboardOpenings)
            self.terminal.write(Terminal.alternateScreenOn)
            self.drawDashboard(clearing: false)
            self.scheduleDashboardRefresh()
        }
        if !sent {
            show([style.yellow("offline: ") + "the dashboard needs the server" + style.dim("  (desk is reconnecting)")])
        } else {
            terminal.write(screen.redraw(editor.view))
        }
    }

    /// `[window] [every=<d>]` in either order: the window (nil: the server's default) and the
    /// refresh interval in seconds; nil when the words are not that.
    static func dashboardArguments(_ arguments: [String]) -> (window: String?, interval: Double)? {
        var window: String?
        var interval = dashboardInterval
        var sawInterval = false
        for argument in arguments {
            let lowered = argument.lowercased()
            if lowered.hasPrefix("every=") {
                guard !sawInterval, let seconds = seconds(in: String(lowered.dropFirst(6))), dashboardIntervals.contains(seconds) else { return nil }
                interval = seconds
                sawInterval = true
            } else {
                guard window == nil else { return nil }
                window = lowered.hasPrefix("window=") ? String(argument.dropFirst(7)) : argument
            }
        }
        return (window, interval)
    }

    /// `30`, `30s`, `2m` as seconds.
    private static func seconds(in text: String) -> Double? {
        if text.hasSuffix("m"), let minutes = Int(text.dropLast()), minutes >= 0, minutes <= 600 { return Double(minutes * 60) }
        if let seconds = Int(text.hasSuffix("s") ? String(text.dropLast()) : text), seconds >= 0, seconds <= 36_000 { return Double(seconds) }
        return nil
    }

    /// Back to the chat screen as it was, then what came meanwhile.
    func closeDashboard() {
        guard let mode = dashboard else { return }
        dashboard = nil
        terminal.write(Terminal.alternateScreenOff)
        updateStatus()
        terminal.write(screen.redraw(editor.view))
        if !mode.held.isEmpty {
            show([renderer.style.dim("while you were on the dashboard:")] + mode.held)
        }
    }

    /// Keeps chat lines for later (the newest `maximumHeldLines`); rings now for a ping.
    func hold(_ lines: [String], ringing: Bool) {
        guard var mode = dashboard else { return }
        mode.held += lines
        if mode.held.count > Self.maximumHeldLines { mode.held.removeFirst(mode.held.count - Self.maximumHeldLines) }
        let opening = mode.opening
        let needsRedraw = !mode.isRedrawQueued
        mode.isRedrawQueued = true
        dashboard = mode
        if ringing {
            let now = DispatchTime.now()
            if lastBell.map({ now.uptimeNanoseconds - $0.uptimeNanoseconds > 1_000_000_000 }) ?? true {
                terminal.write("\u{07}")
                lastBell = now
            }
        }
        // The footer counts what waits: drawn once the lines at hand are held (the queue is serial).
        guard needsRedraw else { return }
        queue.async { [self] in
            guard dashboard?.opening == opening else { return }
            dashboard?.isRedrawQueued = false
            drawDashboard(clearing: false)
        }
    }

    private func scheduleDashboardRefresh() {
        guard let opening = dashboard?.opening else { return }
        guard let interval = dashboard?.interval else { return }
        queue.asyncAfter(deadline: .now() + interval) { [self] in refreshDashboard(opening) }
    }

    private func refreshDashboard(_ opening: Int) {
        guard let mode = dashboard, mode.opening == opening else { return }
        let sent = session.send(mode.command) { [unowned self] reply in
            guard var mode = self.dashboard, mode.opening == opening else { return }
            if let figures = MetricsFigures(reply) {
                mode.figures = figures
                mode.updated = Date()
                mode.problem = nil
            } else {
                mode.problem = reply.errorCode == ServerReply.connectionLostCode ? "offline" : "error " + (reply.errorCode ?? "?")
            }
            self.dashboard = mode
            self.drawDashboard(clearing: false)
            self.scheduleDashboardRefresh()
        }
        if !sent {
            dashboard?.problem = "offline"
            drawDashboard(clearing: false)
            scheduleDashboardRefresh()
        }
    }

    /// Draws the dashboard for the terminal's size now; `clearing` after a resize.
    func drawDashboard(clearing: Bool) {
        guard let mode = dashboard else { return }
        let updated = Dashboard.clock(mode.updated, timeZone: renderer.timeZone)
        var footer = mode.problem == nil ? "updated \(updated)" : "figures from \(updated); asking again"
        footer += (mode.problem == nil ? " · every " : " every ") + Self.seconds(mode.interval) + " · any key returns to the chat"
        if !mode.held.isEmpty { footer += " · \(mode.held.count) line\(mode.held.count == 1 ? "" : "s") waiting there" }
        var view = Dashboard(figures: mode.figures, source: (renderer.user ?? "desk") + "@" + session.endpoint, footer: footer,
                             style: renderer.style, timeZone: renderer.timeZone)
        view.alert = mode.problem
        let lines = view.lines(width: terminal.columns, height: terminal.rows)
        var text = clearing ? "\u{1B}[H\u{1B}[2J" : ""
        for (index, line) in lines.enumerated() {
            // Each line in place: no newline, so the screen never scrolls.
            text += "\u{1B}[\(index + 1);1H" + line + "\u{1B}[K"
        }
        terminal.write(text)
    }
}
