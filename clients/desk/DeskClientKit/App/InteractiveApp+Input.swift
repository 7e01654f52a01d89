import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Keys: bytes from the terminal through the decoder and the editor; entered lines to the
/// server, or to the few commands the client answers itself (`help`, `quit`).
extension InteractiveApp {
    func readKeys() {
        dispatchPrecondition(condition: .onQueue(queue))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(terminal.input, &buffer, buffer.count)
        if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) {
            // The terminal is gone (window closed).
            leave(with: .success, message: nil)
            return
        }
        guard count > 0 else { return }
        readsFromTerminal &+= 1
        handle(decoder.feed(buffer[..<count]))
        if decoder.hasPending {
            // A lone ESC: a key of its own unless the rest of a sequence follows at once.
            queue.asyncAfter(deadline: .now() + .milliseconds(50)) { [self] in handle(decoder.flush()) }
        }
        if decoder.isPasting {
            // A paste whose end marker does not come within a second of its last bytes is over.
            let readsSoFar = readsFromTerminal
            queue.asyncAfter(deadline: .now() + 1) { [self] in
                if readsFromTerminal == readsSoFar { handle(decoder.endPaste()) }
            }
        }
    }

    /// The keys of one read: the editor takes them all, then the line is drawn once.
    private func handle(_ keys: [Key]) {
        guard !keys.isEmpty else { return }
        // On the dashboard any key (Esc too) goes back to the chat; the key does nothing else.
        if dashboard != nil {
            closeDashboard()
            return
        }
        let completer = self.completer
        let batch = editor.handle(keys, completer: { completer.complete($0) })
        for effect in batch.effects { perform(effect) }
        if batch.needsRedraw { terminal.write(screen.redraw(editor.view)) }
    }

    private func perform(_ effect: LineEditor.Effect) {
        switch effect {
        case .none, .redraw: terminal.write(screen.redraw(editor.view))
        case .bell: terminal.write("\u{07}")
        case .clearScreen: terminal.write("\u{1B}[H\u{1B}[2J" + screen.redraw(editor.view))
        case .showCandidates(let candidates): show(columns(of: candidates))
        case .interrupt: show([renderer.style.dim("(Ctrl-D or quit leaves desk)")])
        case .endOfInput:
            terminal.write(screen.commit(""))
            quit()
        case .submit(let line): submit(line)
        }
    }

    private func submit(_ line: String) {
        terminal.write(screen.commit(line))
        let command = line.trimmingSpaces()
        guard !command.isEmpty else {
            terminal.write(screen.redraw(editor.view))
            return
        }
        if HistoryFile.isStorable(command, secret: password) {
            editor.remember(command)
            history.append(command)
        }
        let words = command.split(separator: " ").map(String.init)
        switch words[0].lowercased() {
        case "help" where words.count == 1:
            show(session.commands.isEmpty ? [renderer.style.dim("no command list yet (offline)")] : renderer.helpList(session.commands))
            return
        case "quit", "exit":
            quit()
            return
        case "login":
            show([renderer.style.yellow("desk logs you in itself; to be someone else, quit and run desk --user NAME")])
            return
        case "use":
            use(Array(words.dropFirst()))
            return
        case "dashboard":
            openDashboard(Array(words.dropFirst()))
            return
        default: break
        }
        var line = command
        switch currentOrder.expand(command, usage: session.usage(of: words[0]), knownOrders: completer.vocabulary.orders) {
        case .unchanged: break
        case .expanded(let expanded): line = expanded
        case .needsOrder:
            show([renderer.style.yellow("no current order: ") + "name it (" + words[0] + " SO-…), or open one first (ORDER, NEXT, CLAIM) or "
                  + renderer.style.bold("use SO-…")])
            return
        }
        let sent = session.send(line) { [unowned self] reply in self.show(reply) }
        if !sent {
            show([renderer.style.yellow("offline, not sent: ") + command + renderer.style.dim("  (desk is reconnecting; ↑ brings the line back)")])
        } else {
            terminal.write(screen.redraw(editor.view))
        }
    }

    /// `use` shows the current order, `use SO-1` sets it, `use none` clears it.
    private func use(_ arguments: [String]) {
        let style = renderer.style
        let howTo = style.dim("  (leave the number out: NOTE text, HOLD type reason, MOVE released… · `.` stands for it · use none clears)")
        switch arguments.count {
        case 0:
            show([currentOrder.number.map { "current order: " + style.bold($0) + howTo }
                  ?? "no current order " + style.dim("(ORDER, NEXT or CLAIM one, or use SO-…)")])
        case 1 where ["none", "-", "off", "clear"].contains(arguments[0].lowercased()):
            currentOrder.use(nil)
            currentOrderChanged()
            show(["no current order"])
        case 1 where arguments[0].allSatisfy({ $0.isASCII && $0.isNumber }):
            // Only the server can tell which order ends in these digits.
            show([style.yellow("use takes the whole number: ") + "ORDER \(arguments[0]) finds it and makes it current"])
        case 1:
            currentOrder.use(arguments[0])
            currentOrderChanged()
            show(["current order: " + style.bold(arguments[0]) + howTo])
        default:
            show([style.yellow("use SO-… sets the current order, use none clears it, use alone shows it")])
        }
    }

    private func quit() {
        session.quit()
        // If the server does not answer QUIT soon, leave anyway.
        queue.asyncAfter(deadline: .now() + 2) { [self] in leave(with: .success, message: nil) }
    }

    /// Candidates laid out in columns across the screen.
    private func columns(of candidates: [String]) -> [String] {
        let width = (candidates.map { DisplayWidth.of($0) }.max() ?? 0) + 2
        let perLine = max(1, (screen.columns - 1) / width)
        var lines: [String] = []
        var index = 0
        while index < candidates.count {
            let row = candidates[index..<min(candidates.count, index + perLine)]
            lines.append(row.map { DisplayWidth.padded($0, to: width) }.joined().trimmingSpaces())
            index += perLine
        }
        return lines
    }
}
