import Dispatch
import OrderDeskCore
import OrderDeskWire
#if canImport(Glibc)
import Glibc
#endif

/// One client connection: its descriptor, Dispatch sources, line framer, unsent output and session.
///
/// Confined to the desk queue: every property is read and written only there, and its sources'
/// handlers run there. Writes go straight to `send`; only on EAGAIN is the rest kept and a write
/// source created, and it is cancelled again once the output drains.
final class Connection: @unchecked Sendable {  // confined to the desk queue (see above)
    let id: Int
    let descriptor: Int32
    private let queue: DispatchQueue
    var framer: LineFramer
    /// The logged-in user, once LOGIN succeeded.
    var user: String?
    /// True while a LOGIN is being verified off the queue; lines that arrive meanwhile wait in `pendingFrames`.
    var isBusy = false
    var pendingFrames: [LineFramer.Frame] = []
    /// Id of the first event pushed live to this session; RESUME replays only what came before it.
    var firstLiveEventID: UInt64?
    /// Events already sent to this session from its mailbox (messages kept for login); RESUME skips them.
    var replayedEventIDs: Set<UInt64> = []
    private(set) var isClosed = false
    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var output: [UInt8] = []
    private var outputStart = 0
    private var closeWhenFlushed = false
    /// Why the connection closed (or will, once flushed), for the log.
    private(set) var closeReason = ""
    /// When the peer last sent anything; the idle timeout closes half-open connections.
    var lastInput: Instant
    /// Sources whose cancel handler has yet to run; the descriptor is closed when this reaches 0.
    private var liveSources = 0
    /// Called once, on the queue, after the connection is closed.
    var onClose: ((Connection) -> Void)?

    init(id: Int, descriptor: Int32, queue: DispatchQueue, maximumLineLength: Int, now: Instant) {
        lastInput = now
        self.id = id
        self.descriptor = descriptor
        self.queue = queue
        framer = LineFramer(maximumLineLength: maximumLineLength)
    }

    /// Bytes written but not yet accepted by the kernel.
    var unsentByteCount: Int { output.count - outputStart }

    /// Starts reading; `onBytes` gets each chunk read, and end of input closes the connection.
    func start(onBytes: @escaping (Connection, UnsafeRawBufferPointer) -> Void) {
        dispatchPrecondition(condition: .onQueue(queue))
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler { [weak self] in
            // Held strongly for the whole handler: closing from inside it must not free the connection.
            guard let self else { return }
            // One read per event, so a client that floods the desk cannot hold the queue: the
            // source fires again while data is left, after other sources had their turn.
            var buffer = [UInt8](repeating: 0, count: 2 * 1024)
            let count = buffer.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.withUnsafeBytes { onBytes(self, UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            } else if count == 0 {
                self.close(reason: "peer closed")
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                self.close(reason: "read error: \(String(cString: strerror(errno)))")
            }
        }
        source.setCancelHandler { [self] in self.sourceCancelled() }
        liveSources += 1
        readSource = source
        source.resume()
    }

    /// Queues `text` for the peer. Returns false (and queues nothing) when the connection is closed.
    @discardableResult
    func write(_ text: String) -> Bool {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed else { return false }
        if unsentByteCount == 0 {
            output.removeAll(keepingCapacity: true)
            outputStart = 0
        }
        output.append(contentsOf: text.utf8)
        if writeSource == nil { flush() }
        return true
    }

    /// Sends what the kernel will take now; arms a write source for the rest.
    private func flush() {
        while outputStart < output.count {
            let sent = output.withUnsafeBytes { bytes in
                send(descriptor, bytes.baseAddress! + outputStart, bytes.count - outputStart, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                outputStart += sent
            } else if sent < 0 && errno == EINTR {
                continue
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                armWriteSource()
                return
            } else {
                close(reason: "write error")
                return
            }
        }
        output.removeAll(keepingCapacity: output.capacity <= 64 * 1024)
        outputStart = 0
        if let source = writeSource {
            writeSource = nil
            source.cancel()
        }
        if closeWhenFlushed { close(reason: closeReason) }
    }

    private func armWriteSource() {
        guard writeSource == nil, !isClosed else { return }
        let source = DispatchSource.makeWriteSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler { [weak self] in self?.flush() }
        source.setCancelHandler { [self] in self.sourceCancelled() }
        liveSources += 1
        writeSource = source
        source.resume()
    }

    /// Closes once everything queued so far has been sent.
    func closeAfterFlush(reason: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        closeWhenFlushed = true
        closeReason = reason
        if unsentByteCount == 0 { close(reason: reason) }
    }

    /// Stops reading and writing now; the descriptor closes when both sources have finished cancelling.
    func close(reason: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed else { return }
        isClosed = true
        closeReason = reason
        output = []
        outputStart = 0
        pendingFrames = []
        writeSource?.cancel()
        writeSource = nil
        readSource?.cancel()
        readSource = nil
        if liveSources == 0 { Glibc.close(descriptor) }
        onClose?(self)
        onClose = nil
    }

    private func sourceCancelled() {
        liveSources -= 1
        if liveSources == 0 && isClosed { Glibc.close(descriptor) }
    }
}
