import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The chat-style screen: pushes and replies scroll above a one-line editor.
///
/// One serial queue, `queue`, owns everything here: the session, the editor, the screen and
/// the terminal. Key bytes arrive from a read source on standard input, server lines from the
/// connection's read source, both on `queue`.
public final class InteractiveApp: DeskApp, @unchecked Sendable {  // all state confined to `queue`
    let queue: DispatchQueue
    let session: Session
    let terminal: Terminal
    var screen: Screen
    var editor: LineEditor
    var decoder = KeyDecoder()
    var completer = Completer()
    var renderer: Renderer
    let history: HistoryFile
    /// Where the newest push id is kept for the next run; nil without a user.
    let lastEventFile: LastEventFile?
    /// True while a write of the newest push id is queued (a burst of pushes writes once).
    var isLastEventSaveQueued = false
    /// Kept only to keep it out of the history file.
    var password: String?
    /// True when the password came from the prompt, so a wrong one may be asked for again.
    let asksAgain: Bool
    /// Passwords tried at the prompt so far.
    var loginAttempts = 1
    static let maximumLoginAttempts = 3
    let settings: Settings
    let isBellEnabled: Bool
    var lastBell: DispatchTime?
    /// True once raw mode is on and the prompt is drawn.
    var isScreenActive = false
    var isOnline = false
    var inputSource: DispatchSourceRead?
    /// The status line's content; nil when it is turned off (`--no-status`, `status=off`).
    var status: StatusLine?
    /// Redraws the status line as lease ends count down.
    var statusTimer: DispatchSourceTimer?
    /// Reads from the terminal so far: tells a paste still arriving from one that stalled.
    var readsFromTerminal = 0
    var signalSources: [DispatchSourceSignal] = []
    /// The order a command applies to when its number is left out; shown in the status line.
    var currentOrder = CurrentOrder()
    /// The dashboard while it is on screen (the chat screen waits underneath); nil otherwise.
    var dashboard: DashboardMode?
    /// Dashboards opened so far: a refresh due for an earlier one finds it gone.
    var dashboardOpenings = 0

    public init(settings: Settings, password: String?, asksAgain: Bool = false, style: Style, queue: DispatchQueue) {
        self.queue = queue
        self.password = password
        self.asksAgain = asksAgain
        self.settings = settings
        isBellEnabled = settings.isBellEnabled
        terminal = Terminal()
        history = HistoryFile(path: settings.historyPath)
        editor = LineEditor(history: history.load())
        renderer = Renderer(style: style, user: settings.user)
        status = settings.showsStatusLine ? StatusLine(user: settings.user) : nil
        screen = Screen(prompt: "> ", columns: 80)
        lastEventFile = settings.user.map { settings.lastEventFile(for: $0) }
        session = Session(account: Session.Account(host: settings.host, port: settings.port, user: settings.user, password: password,
                                                                   isTLS: settings.isTLS, caFile: settings.caFile),
                          reconnects: true, queue: queue, lastEventID: lastEventFile?.load())
        completer.localCommands = ["help", "quit", "exit", "use", "dashboard"]
        session.onNotice = { [unowned self] notice in self.handle(notice) }
        session.onEvent = { [unowned self] event, isReplayed in self.show(event, isReplayed: isReplayed) }
    }

    public func start() {
        queue.async { [self] in session.start() }
    }

    // MARK: Session notices

    private func handle(_ notice: Session.Notice) {
        dispatchPrecondition(condition: .onQueue(queue))
        let style = renderer.style
        switch notice {
        case .loggedIn(let greeting):
            isOnline = true
            renderer.user = greeting.user
            completer.commands = Dictionary(session.commands.map { ($0.name, $0.usage) }, uniquingKeysWith: { first, _ in first })
            completer.vocabulary.learn(dataLines: greeting.claimLines)
            if let lease = session.serverFields["lease"].flatMap(Double.init) { status?.leaseSeconds = lease }
            status?.loggedIn(user: greeting.user, claimLines: greeting.claimLines, unread: greeting.unread, unreadOrders: greeting.unreadOrders)
            if !isScreenActive { activateScreen() }
            updatePrompt()
            show(greetingLines(greeting))
        case .loginFailed(let reply):
            let failure = "login failed: " + errorMessage(reply)
            guard asksAgain, !isScreenActive, reply.errorCode == "login-failed", loginAttempts < Self.maximumLoginAttempts,
                  let user = session.user else {
                leave(with: ExitCode(errorCode: reply.errorCode ?? "login-failed"), message: failure)
                return
            }
            // A typo at the prompt: ask again, as login(1) does, up to three tries in all.
            loginAttempts += 1
            Output.write("desk: " + failure + "\n", to: STDERR_FILENO)
            guard let retry = Launch.askPassword(for: user, settings: settings) else {
                leave(with: .notAllowed, message: nil)
                return
            }
            password = retry
            session.logIn(password: retry)
        case .certificateRefused(let reason):
            leave(with: .certificateRefused, message: "cannot connect to \(session.endpoint): \(reason)")
        case .cannotConnect(let reason):
            leave(with: .cannotConnect, message: "cannot connect to \(session.endpoint): \(reason)")
        case .connectionLost(let reason, let willRetry):
            isOnline = false
            status?.connection = .offline
            guard isScreenActive, willRetry else {
                leave(with: .cannotConnect, message: "connection to \(session.endpoint) lost: \(reason)")
                return
            }
            updatePrompt()
            show([style.yellow("connection lost (\(reason)); reconnecting…")])
        case .retrying(let reason, let delay):
            show([style.dim("still offline (\(reason)); next try in \(Self.seconds(delay))")])
        case .resumed(let count, let isComplete, let isAfterRestart):
            var text: String
            if isAfterRestart {
                text = style.green("caught up: ") + (count == 0 ? "nothing new while you were away"
                                                     : "\(count) event\(count == 1 ? "" : "s") while you were away, shown above")
            } else {
                text = style.green("back online: ") + (count == 0 ? "nothing was missed while offline"
                                                       : "\(count) missed push\(count == 1 ? "" : "es") shown above")
            }
            if !isComplete { text += "; older ones are gone from the server (INBOX lists what was addressed to you)" }
            show([text])
        case .mayHaveMissedEvents:
            show([style.yellow("back online, but pushes sent while offline may have been missed; INBOX lists those addressed to you")])
        case .closed:
            leave(with: .success, message: nil)
        }
    }

    private func errorMessage(_ reply: ServerReply) -> String {
        if case .failure(_, let message) = reply.outcome { return message }
        return ""
    }

    private func greetingLines(_ greeting: Session.Greeting) -> [String] {
        let style = renderer.style
        var facts: [String] = []
        if let claims = greeting.claims { facts.append("\(claims) claim\(claims == 1 ? "" : "s")") }
        if let unread = greeting.unread { facts.append(unread > 0 ? style.bold("\(unread) unread") : "0 unread") }
        let who = greeting.user.map { style.bold($0) + (greeting.role.map { " (\($0))" } ?? "") } ?? "not logged in"
        var first = (greeting.isReconnect ? "reconnected as " : "logged in as ") + who + " at " + session.endpoint
        if !facts.isEmpty { first += style.dim(" · ") + facts.joined(separator: style.dim(" · ")) }
        var lines = [first]
        if !greeting.claimLines.isEmpty { lines += renderer.orderTable(greeting.claimLines.map(Record.init)) }
        if !greeting.isReconnect {
            if (greeting.unread ?? 0) > 0 { lines.append(style.dim("INBOX unread lists what came while you were away")) }
            lines.append(style.dim("help lists commands · Tab completes · ↑ history · Ctrl-R search · Ctrl-D quits"))
        }
        return lines
    }

    // MARK: Output

    /// Prints lines above the input line (or plainly before the screen starts).
    func show(_ lines: [String], ringing: Bool = false) {
        dispatchPrecondition(condition: .onQueue(queue))
        updateStatus()
        if dashboard != nil {
            // The chat screen is underneath: its lines wait for the dashboard to close.
            hold(lines, ringing: ringing && isBellEnabled)
            return
        }
        var text = isScreenActive ? screen.print(lines, then: editor.view) : lines.map { $0 + "\n" }.joined()
        if ringing && isBellEnabled {
            let now = DispatchTime.now()
            // At most one bell a second: a burst of pushes rings once.
            if lastBell.map({ now.uptimeNanoseconds - $0.uptimeNanoseconds > 1_000_000_000 }) ?? true {
                text += "\u{07}"
                lastBell = now
            }
        }
        terminal.write(text)
    }

    private func show(_ event: ServerEvent, isReplayed: Bool) {
        rememberLastEvent()
        status?.learn(event, isReplayed: isReplayed, now: Date())
        completer.vocabulary.learn(event: event)
        show([renderer.line(for: event, isReplayed: isReplayed)], ringing: event.isPing(for: renderer.user))
    }

    func show(_ reply: ServerReply) {
        status?.learn(reply, now: Date())
        let before = currentOrder
        currentOrder.learn(reply, usage: session.usage(of: reply.commandName))
        if currentOrder != before { currentOrderChanged() }
        completer.vocabulary.learn(dataLines: reply.data)
        if case .ok(let summary) = reply.outcome { completer.vocabulary.learn(fields: Record(summary).fieldDictionary) }
        show(renderer.lines(for: reply))
    }

    /// Tells the status line and the completer; the next redraw shows it.
    func currentOrderChanged() {
        status?.currentOrder = currentOrder.number
        completer.currentOrder = currentOrder.number
    }

    /// Writes the newest push id for the next run once the pushes at hand are handled (the
    /// queue is serial, so a burst read at once is saved once).
    private func rememberLastEvent() {
        guard lastEventFile != nil, !isLastEventSaveQueued else { return }
        isLastEventSaveQueued = true
        queue.async { [self] in saveLastEvent() }
    }

    func saveLastEvent() {
        guard isLastEventSaveQueued else { return }
        isLastEventSaveQueued = false
        if let id = session.lastEventID { lastEventFile?.save(id) }
    }

    /// Puts the status line's current text on the screen model (drawn with the next redraw).
    func updateStatus() {
        guard isScreenActive, let status else { return }
        screen.status = status.text(now: Date(), width: max(8, screen.columns - 1), style: renderer.style)
    }

    /// Redraws when the status text changed (a lease end ticked to the next minute, say).
    private func refreshStatus() {
        let before = screen.status
        updateStatus()
        if screen.status != before, dashboard == nil { terminal.write(screen.redraw(editor.view)) }
    }

    func updatePrompt() {
        let name = renderer.user ?? "desk"
        let style = renderer.style
        if isOnline {
            screen.prompt = name + "> "
            screen.styledPrompt = style.bold(name) + "> "
        } else {
            screen.prompt = name + " (offline)> "
            screen.styledPrompt = style.bold(name) + style.yellow(" (offline)") + "> "
        }
        updateStatus()
        if isScreenActive, dashboard == nil { terminal.write(screen.redraw(editor.view)) }
    }

    static func seconds(_ delay: Double) -> String {
        delay == delay.rounded() ? "\(Int(delay))s" : "\(delay)s"
    }

    // MARK: Terminal

    private func activateScreen() {
        dispatchPrecondition(condition: .onQueue(queue))
        terminal.enterRawMode()
        // Bracketed paste: the terminal marks pasted text, so its line breaks are not Enter.
        terminal.write(Terminal.bracketedPasteOn)
        isScreenActive = true
        screen.columns = terminal.columns
        renderer.maximumWidth = screen.columns - 1
        let source = DispatchSource.makeReadSource(fileDescriptor: terminal.input, queue: queue)
        source.setEventHandler { [unowned self] in self.readKeys() }
        inputSource = source
        source.resume()
        if status != nil {
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now() + 1, repeating: 1, leeway: .milliseconds(100))
            timer.setEventHandler { [unowned self] in self.refreshStatus() }
            statusTimer = timer
            timer.resume()
        }
        watch(SIGWINCH) { [unowned self] in
            self.screen.columns = self.terminal.columns
            self.renderer.maximumWidth = self.screen.columns - 1
            self.updateStatus()
            if self.dashboard != nil {
                self.drawDashboard(clearing: true)
            } else {
                self.terminal.write(self.screen.redraw(self.editor.view))
            }
        }
        for signalNumber in [SIGTERM, SIGHUP, SIGINT] {
            watch(signalNumber) { [unowned self] in self.leave(with: .success, message: nil) }
        }
    }

    private func watch(_ signalNumber: Int32, _ handler: @escaping () -> Void) {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
        source.setEventHandler(handler: handler)
        signalSources.append(source)
        source.resume()
    }

    /// Restores the terminal and exits.
    func leave(with status: ExitCode, message: String?) {
        dispatchPrecondition(condition: .onQueue(queue))
        saveLastEvent()
        if dashboard != nil { terminal.write(Terminal.alternateScreenOff) }
        if isScreenActive {
            terminal.write(screen.clearBeforeLeaving + Terminal.bracketedPasteOff)
            terminal.restore()
        }
        if let message { Output.write("desk: " + message + "\n", to: STDERR_FILENO) }
        exit(status.rawValue)
    }
}
