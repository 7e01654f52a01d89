#if canImport(Glibc)
import Glibc
#endif

/// The process's terminal: raw mode on and off, its width, and unbuffered writes.
///
/// Raw mode is `cfmakeraw` with output processing (OPOST, ONLCR) kept, so `\n` still starts a
/// new line at column 0 (PLATFORM.md, "Terminal").
public final class Terminal: @unchecked Sendable {  // used on the client queue once the screen starts; before that by main alone
    public let input: Int32
    public let output: Int32
    private var saved: termios?

    public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) {
        self.input = input
        self.output = output
    }

    public static func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }

    /// Asks the terminal to mark pastes with `ESC[200~` ... `ESC[201~` (xterm's bracketed paste).
    public static let bracketedPasteOn = "\u{1B}[?2004h"
    public static let bracketedPasteOff = "\u{1B}[?2004l"

    /// Switches input to raw mode; false when it is not a terminal.
    @discardableResult
    public func enterRawMode() -> Bool {
        var original = termios()
        guard tcgetattr(input, &original) == 0 else { return false }
        var raw = original
        cfmakeraw(&raw)
        raw.c_oflag |= tcflag_t(OPOST | ONLCR)
        guard tcsetattr(input, TCSANOW, &raw) == 0 else { return false }
        saved = original
        return true
    }

    /// Puts the terminal back as it was before `enterRawMode`.
    public func restore() {
        guard var original = saved else { return }
        tcsetattr(input, TCSANOW, &original)
        saved = nil
    }

    /// Columns of the output terminal (80 when it cannot tell).
    public var columns: Int {
        var size = winsize()
        let status = withUnsafeMutablePointer(to: &size) { ioctl(output, UInt(TIOCGWINSZ), $0) }
        return status == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    /// Rows of the output terminal (24 when it cannot tell).
    public var rows: Int {
        var size = winsize()
        let status = withUnsafeMutablePointer(to: &size) { ioctl(output, UInt(TIOCGWINSZ), $0) }
        return status == 0 && size.ws_row > 0 ? Int(size.ws_row) : 24
    }

    /// The alternate screen (xterm's, as full-screen programs use): what was on the main screen
    /// comes back as it was when it is left. It is cleared before it is left: tmux (3.3), leaving
    /// it at another size than it was entered at, pushes some of its lines into the main
    /// screen's scrollback.
    public static let alternateScreenOn = "\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J"
    public static let alternateScreenOff = "\u{1B}[H\u{1B}[2J\u{1B}[?25h\u{1B}[?1049l"

    public func write(_ text: String) {
        Output.write(text, to: output)
    }

    /// Reads one line from standard input after writing `prompt` to standard error. With
    /// `echo` on, the terminal's normal line editing is used. With it off (a password), the
    /// terminal is switched to read keys one by one without echo *before* the prompt appears,
    /// so nothing typed is ever shown; Backspace and Ctrl-U edit, and Ctrl-C or Ctrl-D give
    /// up (nil) with the terminal put back as it was. nil at end of input.
    public static func readLine(prompt: String, echo: Bool) -> String? {
        let input = STDIN_FILENO
        var original = termios()
        guard tcgetattr(input, &original) == 0 else { return readLineUnbuffered(from: input) }
        guard !echo else {
            Output.write(prompt, to: STDERR_FILENO)
            return readLineUnbuffered(from: input)
        }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG)
        tcsetattr(input, TCSAFLUSH, &silent)
        defer {
            tcsetattr(input, TCSAFLUSH, &original)
            Output.write("\n", to: STDERR_FILENO)
        }
        Output.write(prompt, to: STDERR_FILENO)
        return readHiddenKeys(from: input)
    }

    /// The hidden line, key by key (the terminal is in non-canonical mode without echo).
    private static func readHiddenKeys(from descriptor: Int32) -> String? {
        var scalars: [Unicode.Scalar] = []
        var pending: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = read(descriptor, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return scalars.isEmpty ? nil : String(String.UnicodeScalarView(scalars)) }
            switch byte {
            case 0x0D, 0x0A: return String(String.UnicodeScalarView(scalars))
            case 0x03: return nil
            case 0x04: if scalars.isEmpty { return nil }
            case 0x7F, 0x08: if !scalars.isEmpty { scalars.removeLast() }
            case 0x15: scalars.removeAll()
            default:
                guard byte >= 0x20 else { continue }
                pending.append(byte)
                if let text = String(validating: pending, as: UTF8.self) {
                    scalars += text.unicodeScalars
                    pending = []
                } else if pending.count >= 4 {
                    pending = []
                }
            }
        }
    }

    /// One line read a byte at a time, so nothing after it is taken from the descriptor
    /// (the rest of standard input still belongs to whoever reads it next).
    public static func readLineUnbuffered(from descriptor: Int32) -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = read(descriptor, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Unbuffered writes to a descriptor, retried until all is written.
public enum Output {
    public static func write(_ text: String, to descriptor: Int32) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.write(descriptor, base + offset, buffer.count - offset)
            }
            if written < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
