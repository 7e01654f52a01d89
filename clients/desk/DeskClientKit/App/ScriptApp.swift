import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `desk -c COMMAND`, or commands piped in: each line sent in turn, its reply printed, then exit.
///
/// Replies go to standard output (errors to standard error) as text, or every reply and push
/// as one JSON object per line with `--json`. There is no reconnecting: a dropped connection
/// ends the script with status 3. The exit status is that of the first command that failed
/// (docs/CLIENT.md, "Exit codes"). One serial queue, `queue`, owns all state here.
public final class ScriptApp: DeskApp, @unchecked Sendable {  // all state confined to `queue`
    /// Where commands come from.
    public enum Input: Sendable {
        case commands([String])
        case standardInput
    }

    private let queue: DispatchQueue
    private let session: Session
    private var renderer: Renderer
    private let isJSON: Bool
    private let input: Input
    private var pending: [String] = []
    private var isInputFinished = false
    private var isWaitingForReply = false
    private var isReady = false
    private var status = ExitCode.success

    public init(settings: Settings, password: String?, style: Style, input: Input, queue: DispatchQueue) {
        self.queue = queue
        self.input = input
        isJSON = settings.isJSON
        renderer = Renderer(style: style, user: settings.user)
        if Terminal.isTerminal(STDOUT_FILENO) { renderer.maximumWidth = Terminal(output: STDOUT_FILENO).columns - 1 }
        session = Session(account: Session.Account(host: settings.host, port: settings.port, user: settings.user, password: password,
                                                                   isTLS: settings.isTLS, caFile: settings.caFile, alternates: settings.alternates),
                          reconnects: false, queue: queue)
        session.onNotice = { [unowned self] notice in self.handle(notice) }
        // Pushes are printed only as JSON: in text, they would mix into the output a script parses.
        session.onEvent = { [unowned self] event, isReplayed in
            if self.isJSON { self.write(JSONLines.line(for: event, isReplayed: isReplayed)) }
        }
    }

    public func start() {
        queue.async { [self] in
            switch input {
            case .commands(let commands):
                pending = commands
                isInputFinished = true
            case .standardInput:
                startReadingInput()
            }
            session.start()
        }
    }

    private func handle(_ notice: Session.Notice) {
        switch notice {
        case .loggedIn:
            isReady = true
            sendNext()
        case .loginFailed(let reply):
            print(reply)
            finish(ExitCode(errorCode: reply.errorCode ?? "login-failed"))
        case .certificateRefused(let reason):
            fail(.certificateRefused, code: "certificate-refused", message: "cannot connect to \(session.endpoint): \(reason)")
        case .cannotConnect(let reason):
            fail(.cannotConnect, code: "cannot-connect", message: "cannot connect to \(session.endpoint): \(reason)")
        case .connectionLost(let reason, _):
            fail(.cannotConnect, code: ServerReply.connectionLostCode, message: "connection to \(session.endpoint) lost: \(reason)")
        case .closed:
            finish(status)
        case .retrying, .resumed, .mayHaveMissedEvents:
            break
        }
    }

    private func sendNext() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard isReady, !isWaitingForReply else { return }
        while let line = pending.first {
            pending.removeFirst()
            let command = line.trimmingSpaces()
            if command.isEmpty || command.hasPrefix("#") { continue }
            isWaitingForReply = true
            session.send(command) { [unowned self] reply in
                self.isWaitingForReply = false
                self.print(reply)
                if !reply.isOK, self.status == .success { self.status = ExitCode(errorCode: reply.errorCode ?? "") }
                self.sendNext()
            }
            return
        }
        if isInputFinished { session.quit() }
    }

    private func print(_ reply: ServerReply) {
        if isJSON {
            write(JSONLines.line(for: reply))
        } else if reply.isOK {
            for line in renderer.lines(for: reply) { write(line) }
        } else {
            for line in renderer.lines(for: reply) { Output.write(line + "\n", to: STDERR_FILENO) }
        }
    }

    private func fail(_ status: ExitCode, code: String, message: String) {
        if isJSON {
            write(JSONLines.notice("error", [("code", code), ("message", message)]))
        }
        Output.write("desk: " + message + "\n", to: STDERR_FILENO)
        finish(status)
    }

    private func write(_ line: String) {
        Output.write(line + "\n", to: STDOUT_FILENO)
    }

    private func finish(_ status: ExitCode) {
        exit(status.rawValue)
    }

    // MARK: Standard input

    /// Reads standard input on a thread of its own with plain blocking reads (a Dispatch read
    /// source can miss the end of a pipe whose last bytes and end arrive together), handing
    /// each line to `queue`.
    private func startReadingInput() {
        let queue = self.queue
        let thread = Thread { [unowned self] in
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(STDIN_FILENO, &chunk, chunk.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                buffer += chunk[..<count]
                var lines: [String] = []
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
                    buffer.removeSubrange(...newline)
                }
                if lines.isEmpty { continue }
                let batch = lines
                queue.async { [unowned self] in
                    self.pending += batch
                    self.sendNext()
                }
            }
            let rest = String(decoding: buffer, as: UTF8.self)
            queue.async { [unowned self] in
                if !rest.isEmpty { self.pending.append(rest) }
                self.isInputFinished = true
                self.sendNext()
            }
        }
        thread.start()
    }
}
