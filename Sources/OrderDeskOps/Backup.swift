import CSQLite
import Dispatch
import OrderDeskServer
#if canImport(Glibc)
import Glibc
#endif

/// `orderdesk backup`: a consistent copy of a data file, taken while a server keeps writing it.
///
/// It needs no data-file lock: it reads through its own read-only connection, which WAL lets in
/// beside the server's writer. One read transaction is held for the whole copy, so the copy is
/// the database as of the moment that transaction began (every change acknowledged before then
/// is in it, none after), and SQLite's online backup API copies it a few pages per step with
/// pauses in between, so the server's commits never wait for it (in WAL a reader blocks no
/// writer; the WAL only grows until the copy ends). The copy goes to `FILE.partial`, mode 0600,
/// and is renamed into place once complete and synced; restoring is starting a server on it.
public enum Backup {
    /// What a finished backup copied.
    public struct Summary: Sendable {
        public var pages: Int
        public var bytes: Int64
        public var seconds: Double
    }

    /// Why a backup could not be made.
    public enum Failure: Error, CustomStringConvertible {
        /// The destination exists; a backup never overwrites a file.
        case destinationExists(String)
        /// A file-system call failed.
        case system(call: String, code: Int32)

        public var description: String {
            switch self {
            case .destinationExists(let path): "\(path) exists; a backup never overwrites a file"
            case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
            }
        }
    }

    /// Copies the data file at `source` into the new file `destination`. `pagesPerStep` pages
    /// are copied per step, `pause` microseconds pass between steps, and the copy is flushed to
    /// disk every `flushPages` pages.
    public static func run(from source: String, to destination: String, pagesPerStep: Int32 = 256, pause: UInt32 = 1000,
                           flushPages: Int = 512) throws -> Summary {
        guard access(destination, F_OK) != 0 else { throw Failure.destinationExists(destination) }
        let started = monotonicMicroseconds()
        let reader = try SQLiteDatabase(path: source, isReadOnly: true)
        // The read transaction that fixes what the copy holds (backup steps use it, rather than
        // opening one per step and restarting whenever the server has committed meanwhile).
        try reader.execute("BEGIN DEFERRED; SELECT COUNT(*) FROM sqlite_master;")
        defer { try? reader.execute("COMMIT") }
        let partial = destination + ".partial"
        unlink(partial)
        try DataFile.createIfMissing(partial)
        var pages = 0
        do {
            let writer = try SQLiteDatabase(path: partial)
            try writer.execute("PRAGMA synchronous=FULL")
            guard let backup = sqlite3_backup_init(writer.handle, "main", reader.handle, "main") else { throw writer.error(SQLITE_ERROR) }
            // Flushing the copy as it grows keeps the final sync small: one fsync of the whole
            // file at the end would fill the disk queue, and the server's commits would wait in it.
            let flusher = open(partial, O_RDONLY | O_CLOEXEC)
            defer { if flusher >= 0 { close(flusher) } }
            var status = SQLITE_OK
            var unflushed = 0
            while status == SQLITE_OK || status == SQLITE_BUSY || status == SQLITE_LOCKED {
                status = sqlite3_backup_step(backup, pagesPerStep)
                unflushed += Int(pagesPerStep)
                if unflushed >= flushPages, flusher >= 0 {
                    fdatasync(flusher)
                    unflushed = 0
                }
                if status == SQLITE_OK || status == SQLITE_BUSY || status == SQLITE_LOCKED { usleep(pause) }
            }
            pages = Int(sqlite3_backup_pagecount(backup))
            let finished = sqlite3_backup_finish(backup)
            guard status == SQLITE_DONE, finished == SQLITE_OK else { throw writer.error(status == SQLITE_DONE ? finished : status) }
            // The copy came over in WAL mode; as a rollback-journal file it is one self-contained
            // file at rest. A server started on it switches it back to WAL.
            try writer.execute("PRAGMA journal_mode=DELETE")
            writer.close()
            try sync(partial)
        } catch {
            unlink(partial)
            throw error
        }
        guard rename(partial, destination) == 0 else {
            let code = errno
            unlink(partial)
            throw Failure.system(call: "rename \(partial)", code: code)
        }
        try sync(directoryOf: destination)
        var info = stat()
        let bytes = stat(destination, &info) == 0 ? Int64(info.st_size) : 0
        return Summary(pages: pages, bytes: bytes, seconds: Double(monotonicMicroseconds() - started) / 1_000_000)
    }

    private static func monotonicMicroseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds / 1000 }

    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure.system(call: "open \(path)", code: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure.system(call: "fsync \(path)", code: errno) }
    }

    /// Makes the rename durable.
    private static func sync(directoryOf path: String) throws {
        let directory = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) : "."
        try sync(directory.isEmpty ? "/" : directory)
    }
}
