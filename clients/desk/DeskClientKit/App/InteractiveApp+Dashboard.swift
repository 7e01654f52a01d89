import Foundation

/// What the dashboard shows and where its refreshing stands, while it is on screen.
struct DashboardMode {
    /// The METRICS line it asks with (`METRICS window=7d`).
    var command: String
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

/// `dashboard [window]`: METRICS as a full screen, asked again every few seconds, over the chat
/// screen (the terminal's alternate screen, so the chat comes back as it was). Any key returns.
///
/// It never floods the server: one METRICS at a time, the next `dashboardInterval` after the
/// reply to the last (a slow METRICS on a big desk makes the refresh slower, never more
/// frequent); offline, it waits as long before asking again. Pushes and notices meanwhile are
/// held and printed in the chat when the dashboard closes; pings still ring.
extension InteractiveApp {
    /// Seconds from one METRICS reply to the next question.
    static let dashboardInterval: Double = 5
    static let maximumHeldLines = 500

    func openDashboard(_ arguments: [String]) {
        let style = renderer.style
        guard arguments.count <= 1 else {
            show([style.yellow("dashboard [window]: ") + "METRICS live, e.g. dashboard 7d (default 30d); any key returns"])
            return
        }
        let window = arguments.first.map { $0.lowercased().hasPrefix("window=") ? String($0.dropFirst(7)) : $0 }
        let command = "METRICS" + (window.map { " window=" + $0 } ?? "")
        let sent = session.send(command) { [unowned self] reply in
            guard self.dashboard == nil else { return }
            // A refusal (not an admin, a bad window) is shown in the chat, which stays.
            guard let figures = MetricsFigures(reply) else {
                self.show(reply)
                return
            }
            self.dashboardOpenings += 1
            self.dashboard = DashboardMode(command: command, figures: figures, updated: Date(), opening: self.dashboardOpenings)
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
        queue.asyncAfter(deadline: .now() + Self.dashboardInterval) { [self] in refreshDashboard(opening) }
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
        footer += (mode.problem == nil ? " · every " : " every ") + Self.seconds(Self.dashboardInterval) + " · any key returns to the chat"
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
