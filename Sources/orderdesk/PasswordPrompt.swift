import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a password without echo on a terminal, or one line from a pipe.
enum PasswordPrompt {
    static func read(prompt: String, confirm: Bool) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            guard let line = readLine(strippingNewline: true) else { throw UsageError("no password on standard input") }
            return line
        }
        let first = try readHidden(prompt)
        if confirm {
            guard try readHidden("again: ") == first else { throw UsageError("the passwords differ") }
        }
        return first
    }

    private static func readHidden(_ prompt: String) throws -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var original = termios()
        tcgetattr(STDIN_FILENO, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else { throw UsageError("no password given") }
        return line
    }
}
