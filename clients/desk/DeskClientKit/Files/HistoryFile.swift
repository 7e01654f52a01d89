import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The command history kept between sessions (`$XDG_STATE_HOME/orderdesk/history`).
///
/// The file and its folder are private to the user (0600 and 0700). A LOGIN, PASSWORD, USER ADD or USER PASSWORD line
/// (each carries a password), and any line with the password as one of its words, is never
/// written (`isStorable`). Each line is
/// appended as it is entered, so a crash loses nothing; the file is cut back to `limit`
/// lines when it has grown to twice that.
public struct HistoryFile: Sendable {
    public let path: String
    public let limit: Int

    public init(path: String, limit: Int = 1000) {
        self.path = path
        self.limit = limit
    }

    /// Whether `line` may be kept: never a line that carries a password (LOGIN, PASSWORD, USER ADD,
    /// USER PASSWORD), never one containing `secret` as a word.
    public static func isStorable(_ line: String, secret: String?) -> Bool {
        let words = line.split(separator: " ").map(String.init)
        guard let first = words.first?.uppercased(), first != "LOGIN", first != "PASSWORD" else { return false }
        if first == "USER", words.count > 1, ["ADD", "PASSWORD"].contains(words[1].uppercased()) { return false }
        if let secret, !secret.isEmpty, words.contains(secret) || line == secret { return false }
        return true
    }

    /// The newest `limit` lines, oldest first; empty when there is no file.
    public func load() -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter { Self.isStorable($0, secret: nil) }
        if lines.count > 2 * limit { rewrite(Array(lines.suffix(limit))) }
        return Array(lines.suffix(limit))
    }

    /// Appends one line (the caller has checked `isStorable`).
    public func append(_ line: String) {
        guard let descriptor = openForAppending() else { return }
        defer { close(descriptor) }
        Output.write(line + "\n", to: descriptor)
    }

    private func rewrite(_ lines: [String]) {
        let temporary = path + ".new"
        unlink(temporary)
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return }
        Output.write(lines.map { $0 + "\n" }.joined(), to: descriptor)
        close(descriptor)
        rename(temporary, path)
    }

    private func openForAppending() -> Int32? {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        fchmod(descriptor, 0o600)  // A file made earlier with a looser mode is tightened.
        return descriptor
    }
}
