#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock beside the data file, so a running server and an offline tool
/// (`orderdesk user add`, `orderdesk import`) never write the same file at once.
public final class DataFileLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock on `dataPath + ".lock"`, or throws naming the problem.
    public init(dataPath: String) throws {
        let lockPath = dataPath + ".lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw SystemCallError(call: "open \(lockPath)", code: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw LockError(path: dataPath)
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// A system call that failed, with its errno.
    public struct SystemCallError: Error, CustomStringConvertible {
        public var call: String
        public var code: Int32
        public var description: String { "\(call): \(String(cString: strerror(code)))" }
    }

    /// The data file is in use by another process.
    public struct LockError: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "\(path) is in use by a running orderdesk server; stop it first (or use the protocol)" }
    }
}
