import Dispatch
import OrderDeskCore
import OrderDeskWire

/// Replies and pushes: encoded into each connection's buffer, held there until the changes they
/// tell of are durable, then sent with one `send` per connection; and the output limits that
/// keep a session that does not read from holding more than its share.
extension DeskServer {
    /// Persists the outcome's changes, then (once they are durable) sends its reply and pushes.
    func apply(_ outcome: Outcome, replyTo connection: Connection?) {
        dispatchPrecondition(condition: .onQueue(queue))
        // Until the reload the desk is not the store's: nothing it does now is kept or told (a
        // session that closed meanwhile is seen again by the reload, which knows who is online).
        guard storeOutage == nil else {
            _ = takeRecordedInputs()
            if outcome.reply != nil, let connection { send(.failure(.storageFailed), to: connection) }
            return
        }
        // A single server records no inputs; a cluster node's go into the same commit's log entry.
        pipeline.submit(outcome.changes, inputs: takeRecordedInputs(), counters: desk.counters)
        if let reply = outcome.reply, let connection { send(reply, to: connection) }
        push(outcome.pushes)
    }

    /// Queues each push for every session of its recipients (held, like replies, until what it
    /// tells of is durable).
    func push(_ pushes: [Push]) {
        for push in pushes {
            // Encoded once (by the desk); the same bytes go to every session of every recipient.
            let line = push.line
            for user in push.recipients {
                for session in (sessionsByUser[user] ?? [:]).values {
                    if session.firstLiveEventID == nil { session.firstLiveEventID = push.event.id }
                    output(to: session, isReply: false) { $0.raw(contentsOf: line) }
                }
            }
        }
    }

    /// Sends a reply once every change made before it is durable; if that commit fails, the
    /// reply becomes `ERR storage`, because the change it reported was undone.
    func send(_ reply: Reply, to connection: Connection) {
        output(to: connection, isReply: true) { $0.reply(reply) }
    }

    /// Sends a push line once the change it tells of is durable; dropped if that commit failed.
    func deliver(_ line: String, to connection: Connection) {
        output(to: connection, isReply: false) {
            $0.raw(line)
        }
    }

    /// Encodes into `connection`'s buffer: straight into its output when nothing is waiting to
    /// commit, else held until everything submitted so far is durable (`releaseHeld`).
    private func output(to connection: Connection, isReply: Bool, _ encode: (inout WireWriter) -> Void) {
        guard !connection.isClosed else { return }
        if batchDepth > 0, !connection.defersFlush {
            connection.defersFlush = true
            if !connection.isFlushPending {
                connection.isFlushPending = true
                flushPending.append(connection)
            }
        }
        if pipeline.isSettled {
            let before = connection.unsentByteCount
            connection.write(encode)
            if !isReply { stats.pushesSent += 1 }
            accountOutput(of: connection, added: connection.unsentByteCount - before)
            return
        }
        let before = connection.heldByteCount
        connection.hold(until: pipeline.submitted, isReply: isReply, encode)
        if !connection.isHoldingListed {
            connection.isHoldingListed = true
            holdingConnections.append(connection)
        }
        accountOutput(of: connection, added: connection.heldByteCount - before)
    }

    /// Commits up to `sequence` settled: every connection's output that waited for them leaves,
    /// one send per connection.
    func releaseHeld(upTo sequence: UInt64, committed: Bool) {
        // What a held reply becomes when its commit failed; encoded once, and only then.
        let failure = committed ? "" : Reply.failure(.storageFailed).wireText
        batchingWrites {
            var index = 0
            while index < holdingConnections.count {
                let connection = holdingConnections[index]
                if !connection.defersFlush {
                    connection.defersFlush = true
                    connection.isFlushPending = true
                    flushPending.append(connection)
                }
                let (added, pushes) = connection.releaseHeld(upTo: sequence, committed: committed, failure: failure)
                stats.pushesSent += pushes
                unsentBytes += added
                if connection.isHoldingOutput {
                    index += 1
                } else {
                    connection.isHoldingListed = false
                    holdingConnections.swapAt(index, holdingConnections.count - 1)
                    holdingConnections.removeLast()
                }
            }
        }
    }

    /// Runs `body` with sends deferred: each connection written to is flushed once at the end.
    func batchingWrites(_ body: () -> Void) {
        batchDepth += 1
        body()
        batchDepth -= 1
        guard batchDepth == 0 else { return }
        let connections = flushPending
        flushPending.removeAll(keepingCapacity: true)
        for connection in connections {
            connection.isFlushPending = false
            connection.flushDeferred()
        }
    }

    /// Enforces the output limits after `added` bytes were queued for `connection`: a session that
    /// does not read is dropped before it can make the server hold more than its share.
    private func accountOutput(of connection: Connection, added: Int) {
        if connection.unsentByteCount + connection.heldByteCount > configuration.maximumUnsentBytes {
            stats.slowSessionsDropped += 1
            connection.close(reason: "slow consumer: over \(configuration.maximumUnsentBytes) bytes unsent")
            return
        }
        unsentBytes += added
        if unsentBytes > configuration.maximumTotalUnsentBytes {
            // The server as a whole holds too much unsent output: drop the session holding most.
            let greediest = connections.values.max { $0.unsentByteCount + $0.heldByteCount < $1.unsentByteCount + $1.heldByteCount }
            recountUnsentBytes()
            if unsentBytes > configuration.maximumTotalUnsentBytes, let greediest {
                stats.slowSessionsDropped += 1
                greediest.close(reason: "slow consumer: the server's unsent output is over \(configuration.maximumTotalUnsentBytes) bytes")
                recountUnsentBytes()
            }
        }
    }

    /// Recounts `unsentBytes` (it only ever overestimates between counts: sends drain it).
    func recountUnsentBytes() {
        unsentBytes = connections.values.reduce(0) { $0 + $1.unsentByteCount + $1.heldByteCount }
    }
}
