import Dispatch
import OrderDeskCore
import OrderDeskTLS
import OrderDeskWire
#if canImport(Glibc)
import Glibc
#endif

/// One client connection: its descriptor, Dispatch sources, line framer, the lines waiting to be
/// run, unsent output and session.
///
/// Confined to the desk queue: every property is read and written only there, and its sources'
/// handlers run there. Writes go straight to `send`; only on EAGAIN is the rest kept and a write
/// source created, and it is cancelled again once the output drains.
///
/// Input is bounded: lines wait in `inbox` while the session is busy (a login being checked, a
/// disk read) or has used its turn, and once they hold `inputBudget` bytes, or the peer has not
/// read `outputHighWater` bytes of replies, reading stops until they drain. TCP then holds the
/// peer back, so no connection can make the server hold more than its budget.
///
/// On a TLS port, `tls` stands between the socket and these buffers: reads and writes go through
/// it, the handshake runs from the read source, and a read or write that wants the other
/// readiness (OpenSSL's WANT_READ / WANT_WRITE) waits for it on the same two sources. Output
/// queued before the handshake ends (the greeting) is sent once it ends.
final class Connection: @unchecked Sendable {  // confined to the desk queue (see above)
    let id: Int
    let descriptor: Int32
    /// The peer's address as text (`127.0.0.1`, `::1`), for logs and the login throttle.
    let peerAddress: String
    private let queue: DispatchQueue
    var framer: LineFramer
    /// The logged-in user, once LOGIN succeeded.
    var user: String?
    /// True while a LOGIN is checked or a thread is read off the desk queue; lines wait meanwhile.
    var isBusy = false
    /// True while a continuation of this session's turn is queued (it used its time slice).
    var isYielding = false
    /// On a cluster node: the line that waits for the node's write turn, or for its copy of the
    /// desk to catch up with the log (the session is busy meanwhile).
    var lineAwaitingCluster: LineFramer.Frame?
    /// Set while that line runs again, caught up: it does not wait (or count) a second time.
    var isCaughtUp = false
    /// Lines received and not yet run, oldest first from `inboxStart`.
    private var inbox: [LineFramer.Frame] = []
    private var inboxStart = 0
    private(set) var inboxByteCount = 0
    /// Id of the first event pushed live to this session; RESUME replays only what came before it.
    var firstLiveEventID: UInt64?
    /// Events already sent to this session from its mailbox (messages kept for login); RESUME skips them.
    var replayedEventIDs: Set<UInt64> = []
    private(set) var isClosed = false
    /// True once the peer closed its sending side: the lines received before are still answered.
    private(set) var isInputEnded = false
    private var readSource: DispatchSourceRead?
    private var isReadingPaused = false
    private var writeSource: DispatchSourceWrite?
    private var output: [UInt8] = []
    private var outputStart = 0
    /// Replies and pushes encoded before the changes they tell of are durable, oldest first; each
    /// mark ends one of them and names the commit it waits for (see `releaseHeld`).
    private var held: [UInt8] = []
    private var heldMarks: [HeldMark] = []
    /// While true, writes only append to `output`; `flushDeferred` sends it all in one go.
    var defersFlush = false
    /// True while the server lists this connection as having deferred output to flush.
    var isFlushPending = false
    /// True while the server lists this connection as holding output for a commit.
    var isHoldingListed = false
    private var closeWhenFlushed = false
    /// Why the connection closed (or will, once flushed), for the log.
    private(set) var closeReason = ""
    /// When the peer connected; a stranger must log in within the login timeout.
    let connectedAt: Instant
    /// When the peer last sent anything; the idle timeout closes half-open connections.
    var lastInput: Instant
    /// Sources whose cancel handler has yet to run; the descriptor is closed when this reaches 0.
    private var liveSources = 0
    /// Called once, on the queue, after the connection is closed.
    var onClose: ((Connection) -> Void)?
    private let inputBudget: Int
    private let outputHighWater: Int
    /// The TLS session on a TLS port; nil on the plain port.
    private let tls: TLSStream?
    /// A TLS read that must wait until the socket is writable, and a TLS write until it is readable.
    private var readWantsWrite = false
    private var writeWantsRead = false
    private var writeWantsWrite = false
    /// Bytes of the TLS write that wanted I/O: it is repeated with at least these bytes.
    private var pendingTLSWrite = 0
    /// True until the first bytes arrive (a TLS hello on the plain port is refused at once).
    private var isFirstRead = true
    private var onInput: ((Connection) -> Void)?

    /// Bytes read per read event: one read per event, so a client that floods the desk cannot
    /// hold the queue; the buffer is reused.
    private static let readSize = 4 * 1024
    private var readBuffer = [UInt8](repeating: 0, count: Connection.readSize)

    init(id: Int, descriptor: Int32, peerAddress: String, queue: DispatchQueue, maximumLineLength: Int,
         inputBudget: Int, outputHighWater: Int, tls: TLSStream? = nil, now: Instant) {
        self.tls = tls
        lastInput = now
        connectedAt = now
        self.id = id
        self.descriptor = descriptor
        self.peerAddress = peerAddress
        self.queue = queue
        self.inputBudget = inputBudget
        self.outputHighWater = outputHighWater
        framer = LineFramer(maximumLineLength: maximumLineLength)
    }

    /// Bytes written but not yet accepted by the kernel.
    var unsentByteCount: Int { output.count - outputStart }

    /// Bytes encoded and waiting for their commit.
    var heldByteCount: Int { held.count }

    var isHoldingOutput: Bool { !heldMarks.isEmpty }

    /// Lines waiting to be run.
    var hasWaitingInput: Bool { inboxStart < inbox.count }

    /// Starts reading; `onInput` runs after each read that framed new lines (they wait in the
    /// inbox), and once more when the peer ends its input.
    func start(onInput: @escaping (Connection) -> Void) {
        dispatchPrecondition(condition: .onQueue(queue))
        self.onInput = onInput
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler { [weak self] in
            // Held strongly for the whole handler: closing from inside it must not free the connection.
            guard let self else { return }
            self.readReady()
        }
        source.setCancelHandler { [self] in self.sourceCancelled() }
        liveSources += 1
        readSource = source
        source.resume()
    }

    /// One read per event, so a client that floods the desk cannot hold the queue.
    private func readReady() {
        guard !isClosed, !isInputEnded else { return }
        if let tls {
            readTLS(tls)
            return
        }
        let count = readBuffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            if isFirstRead {
                isFirstRead = false
                // 0x16 opens a TLS handshake record: a TLS client dialled the plain port.
                if readBuffer[0] == 0x16 {
                    close(reason: "tls on the plain port")
                    return
                }
            }
            received(count)
        } else if count == 0 {
            endInput()
            onInput?(self)
        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            close(reason: "read error: \(String(cString: strerror(errno)))")
        }
    }

    private func received(_ count: Int) {
        let frames = readBuffer.withUnsafeBufferPointer { framer.append(UnsafeBufferPointer(rebasing: $0[0..<count])) }
        for frame in frames { enqueue(frame) }
        pauseReadingIfOverBudget()
        onInput?(self)
    }

    private func readTLS(_ tls: TLSStream) {
        if writeWantsRead {
            writeWantsRead = false
            flush()
            guard !isClosed else { return }
        }
        if !tls.isHandshakeComplete {
            if isFirstRead {
                isFirstRead = false
                var first: UInt8 = 0
                // Plain text on the TLS port: say so in plain text (for someone trying nc) and close.
                if recv(descriptor, &first, 1, Int32(MSG_PEEK)) == 1 && first != 0x16 {
                    _ = "BYE tls-required this port speaks TLS; connect with desk --tls\n".withCString {
                        Glibc.send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL))
                    }
                    close(reason: "plain text on the tls port")
                    return
                }
            }
            switch tls.handshake() {
            case .done:
                flush()  // the greeting waited for the handshake
                guard !isClosed else { return }
            case .wantRead: return
            case .wantWrite:
                readWantsWrite = true
                armWriteSource()
                return
            case .closed:
                close(reason: "tls: the peer left during the handshake")
                return
            case .failed(let why):
                close(reason: "tls handshake failed: \(why)")
                return
            }
        }
        let outcome = readBuffer.withUnsafeMutableBytes { tls.read(into: $0) }
        switch outcome {
        case .done(let count):
            received(count)
            // Bytes already inside the session will not make the socket readable again.
            if tls.hasBufferedInput { scheduleBufferedRead() }
        case .wantRead: break
        case .wantWrite:
            readWantsWrite = true
            armWriteSource()
        case .closed:
            endInput()
            onInput?(self)
        case .failed(let why):
            close(reason: "tls error: \(why)")
        }
    }

    /// Reads again soon, after other work, for input the TLS session holds.
    private func scheduleBufferedRead() {
        guard !isReadingPaused, !isClosed, !isInputEnded else { return }
        queue.async { [weak self] in
            guard let self, !self.isReadingPaused else { return }
            self.readReady()
        }
    }

    // MARK: Input

    private func enqueue(_ frame: LineFramer.Frame) {
        inbox.append(frame)
        inboxByteCount += Self.size(of: frame)
    }

    /// The oldest waiting line, removed from the inbox.
    func takeInput() -> LineFramer.Frame? {
        dispatchPrecondition(condition: .onQueue(queue))
        guard inboxStart < inbox.count else { return nil }
        let frame = inbox[inboxStart]
        inboxStart += 1
        inboxByteCount -= Self.size(of: frame)
        if inboxStart == inbox.count {
            inbox.removeAll(keepingCapacity: inbox.capacity <= 256)
            inboxStart = 0
        } else if inboxStart >= 1024, inboxStart * 2 >= inbox.count {
            inbox.removeFirst(inboxStart)
            inboxStart = 0
        }
        resumeReadingIfDrained()
        return frame
    }

    private static func size(of frame: LineFramer.Frame) -> Int {
        if case .line(let text) = frame { return text.utf8.count + 1 }
        return 1
    }

    /// The peer closed its side: stop reading (the source would fire forever) and answer what is
    /// in the inbox; the server closes once that is done.
    private func endInput() {
        isInputEnded = true
        if isReadingPaused {
            isReadingPaused = false
            readSource?.resume()
        }
        readSource?.cancel()
        readSource = nil
    }

    /// Past the budget, reading stops, unless a TLS write waits to read (it would never finish).
    private var isOverBudget: Bool { (inboxByteCount >= inputBudget || unsentByteCount >= outputHighWater) && !writeWantsRead }

    private func pauseReadingIfOverBudget() {
        guard !isReadingPaused, isOverBudget, let source = readSource else { return }
        isReadingPaused = true
        source.suspend()
    }

    private func resumeReadingIfDrained() {
        guard isReadingPaused, inboxByteCount < inputBudget / 2, unsentByteCount < outputHighWater / 2, let source = readSource else { return }
        isReadingPaused = false
        source.resume()
        if tls?.hasBufferedInput == true { scheduleBufferedRead() }
    }

    // MARK: Output

    /// Queues `text` for the peer. Returns false (and queues nothing) when the connection is closed.
    @discardableResult
    func write(_ text: String) -> Bool {
        write { $0.raw(text) }
    }

    /// Encodes straight into the output buffer and sends it (unless flushes are deferred).
    /// Returns false (and queues nothing) when the connection is closed.
    @discardableResult
    func write(_ encode: (inout WireWriter) -> Void) -> Bool {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed else { return false }
        if unsentByteCount == 0 {
            output.removeAll(keepingCapacity: true)
            outputStart = 0
        }
        var writer = WireWriter(capacity: 0)
        swap(&writer.bytes, &output)
        encode(&writer)
        swap(&writer.bytes, &output)
        outputWritten()
        return true
    }

    /// Encodes a reply or push that may leave only once commit `sequence` is durable.
    func hold(until sequence: UInt64, isReply: Bool, _ encode: (inout WireWriter) -> Void) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed else { return }
        var writer = WireWriter(capacity: 0)
        swap(&writer.bytes, &held)
        encode(&writer)
        swap(&writer.bytes, &held)
        heldMarks.append(HeldMark(sequence: sequence, end: held.count, isReply: isReply))
    }

    /// Moves what waited for commits up to `sequence` to the output. When those commits failed,
    /// each reply becomes `failure` (the change it reported was undone) and pushes are dropped.
    /// Returns the bytes added to the output and the pushes among them.
    func releaseHeld(upTo sequence: UInt64, committed: Bool, failure: String) -> (bytes: Int, pushes: Int) {
        dispatchPrecondition(condition: .onQueue(queue))
        var released = 0
        while released < heldMarks.count, heldMarks[released].sequence <= sequence { released += 1 }
        guard released > 0 else { return (0, 0) }
        let pushes = committed ? heldMarks[0..<released].reduce(0) { $0 + ($1.isReply ? 0 : 1) } : 0
        let end = heldMarks[released - 1].end
        let before = unsentByteCount
        if !isClosed {
            if unsentByteCount == 0 {
                output.removeAll(keepingCapacity: true)
                outputStart = 0
            }
            if committed {
                output.append(contentsOf: held[0..<end])
            } else {
                for mark in heldMarks[0..<released] where mark.isReply { output.append(contentsOf: failure.utf8) }
            }
        }
        if released == heldMarks.count {
            held.removeAll(keepingCapacity: held.capacity <= 64 * 1024)
            heldMarks.removeAll(keepingCapacity: true)
        } else {
            held.removeFirst(end)
            heldMarks.removeFirst(released)
            for index in heldMarks.indices { heldMarks[index].end -= end }
        }
        guard !isClosed else { return (0, 0) }
        outputWritten()
        return (unsentByteCount - before - end, pushes)
    }

    private func outputWritten() {
        if defersFlush {
            return
        }
        if writeSource == nil { flush() }
        if !isClosed { pauseReadingIfOverBudget() }
    }

    /// Sends what deferred writes queued.
    func flushDeferred() {
        dispatchPrecondition(condition: .onQueue(queue))
        defersFlush = false
        guard !isClosed else { return }
        if writeSource == nil, unsentByteCount > 0 { flush() }
        if !isClosed { pauseReadingIfOverBudget() }
    }

    /// Sends what the kernel will take now; arms a write source for the rest.
    private func flush() {
        if let tls {
            guard tls.isHandshakeComplete else { return }  // sent once the handshake is done
            guard flushTLS(tls) else { return }
        }
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
        if closeWhenFlushed {
            close(reason: closeReason)
            return
        }
        resumeReadingIfDrained()
    }

    /// Writes through TLS; true once everything is sent, false while it waits (or on close).
    private func flushTLS(_ tls: TLSStream) -> Bool {
        while outputStart < output.count {
            // At most one record's worth per call; a retry repeats at least the same bytes.
            let length = max(pendingTLSWrite, min(output.count - outputStart, 16 * 1024))
            let outcome = output.withUnsafeBytes { tls.write(UnsafeRawBufferPointer(rebasing: $0[outputStart..<(outputStart + length)])) }
            switch outcome {
            case .done(let sent):
                outputStart += sent
                pendingTLSWrite = 0
                writeWantsWrite = false
            case .wantWrite:
                pendingTLSWrite = length
                writeWantsWrite = true
                armWriteSource()
                return false
            case .wantRead:
                pendingTLSWrite = length
                writeWantsRead = true
                if isReadingPaused, let source = readSource {
                    isReadingPaused = false
                    source.resume()
                }
                return false
            case .closed:
                close(reason: "tls: the peer closed the session")
                return false
            case .failed(let why):
                close(reason: "tls write error: \(why)")
                return false
            }
        }
        return true
    }

    private func armWriteSource() {
        guard writeSource == nil, !isClosed else { return }
        let source = DispatchSource.makeWriteSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler { [weak self] in
            guard let self else { return }
            let readWaited = self.readWantsWrite
            self.readWantsWrite = false
            self.flush()
            if readWaited { self.readReady() }
            // The source is level-triggered: once nothing waits to write, it must go.
            let waiting = self.readWantsWrite || (self.tls == nil ? self.unsentByteCount > 0 : self.writeWantsWrite)
            if !waiting, let source = self.writeSource {
                self.writeSource = nil
                source.cancel()
            }
        }
        source.setCancelHandler { [self] in self.sourceCancelled() }
        liveSources += 1
        writeSource = source
        source.resume()
    }

    // MARK: Closing

    /// Closes once everything queued so far has been sent.
    func closeAfterFlush(reason: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed else { return }
        closeWhenFlushed = true
        closeReason = reason
        // A TLS session still in its handshake will never take the bytes.
        if unsentByteCount == 0 || tls?.isHandshakeComplete == false { close(reason: reason) }
    }

    /// Stops reading and writing now; the descriptor closes when both sources have finished cancelling.
    func close(reason: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !isClosed else { return }
        isClosed = true
        closeReason = reason
        tls?.shutdown()
        onInput = nil
        output = []
        outputStart = 0
        held = []
        heldMarks = []
        inbox = []
        inboxStart = 0
        inboxByteCount = 0
        writeSource?.cancel()
        writeSource = nil
        if let source = readSource {
            // A suspended source must be resumed before it is cancelled and released.
            if isReadingPaused { source.resume() }
            isReadingPaused = false
            source.cancel()
        }
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

/// Where one held reply or push ends in `Connection.held`, and the commit it waits for.
struct HeldMark {
    var sequence: UInt64
    var end: Int
    var isReply: Bool
}
