import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The id of the newest push desk has seen, kept between runs so a restarted desk can ask the
/// server to `RESUME` from it and show what happened meanwhile.
///
/// One file per user and server, beside the history file:
/// `$XDG_STATE_HOME/orderdesk/last-event-ana@127.0.0.1:7878`, mode 0600 in a 0700 folder.
/// It is replaced whole (write to a temporary file, then rename), so a crash leaves the old
/// id or the new one, never half of one.
public struct LastEventFile: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The file for `user` at `host:port` in `folder`. Characters that could leave the folder
    /// or confuse a shell are replaced, so any host name gives one plain file name.
    public init(folder: String, user: String, host: String, port: UInt16) {
        let name = "\(user)@\(host):\(port)".map { character -> Character in
            character.isASCII && (character.isLetter || character.isNumber || "@:._-".contains(character)) ? character : "_"
        }
        self.init(path: folder + "/last-event-" + String(name))
    }

    /// The id kept, or nil when there is none (first run) or it cannot be read.
    public func load() -> UInt64? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return UInt64(String(decoding: data, as: UTF8.self).trimmingSpaces().trimmingCharacters(in: .newlines))
    }

    /// Keeps `id`; failures are ignored (the next run then catches up from an older id, or not at all).
    public func save(_ id: UInt64) {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let temporary = path + ".new"
        unlink(temporary)
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return }
        Output.write(String(id) + "\n", to: descriptor)
        close(descriptor)
        rename(temporary, path)
    }
}
