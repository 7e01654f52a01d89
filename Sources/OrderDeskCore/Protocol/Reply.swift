import OrderDeskWire

/// The answer to one command: data lines, then one `OK` or `ERR` line.
///
/// Handlers return values; `WireWriter.reply` (WireEncoder.swift) is the one place they become
/// bytes. `text` is the transitional form of commands not yet given a typed `Answer`: a summary
/// and data lines already rendered.
public enum Reply: Sendable, Equatable {
    case answer(Answer)
    case ok(String, data: [String] = [])
    case failure(DeskError)

    /// True unless the command failed.
    public var isSuccess: Bool {
        if case .failure = self { return false }
        return true
    }

    /// The reply as wire text, every line ending in LF (tests and tools; the server writes bytes).
    public var wireText: String {
        var writer = WireWriter()
        writer.reply(self)
        return writer.text
    }
}

/// A successful command's typed answer, one case per kind of reply (protocol.md, "Commands").
public enum Answer: Sendable, Equatable {
    case pong
    case bye
    /// CAPTURE: the new order and its total.
    case captured(order: String, total: Money, currency: String)
    /// NEXT and CLAIM: the claim, with the order's card (its newest notes only).
    case claimed(OrderView)
    /// ORDER: the card; `marks` when opening it marked the asker's events on it read.
    case card(OrderView, marks: ReadMarks?)
    /// TOUCH: the renewed lease.
    case renewed(order: String, lease: Lease)
    /// HANDBACK: the queue the order went back to (nil: none).
    case handedBack(order: String, queue: QueueName?)
    /// HOLD: the new hold's id; the holder's renewed lease.
    case held(order: String, hold: Int, type: HoldType, lease: Lease?)
    /// UNHOLD: the holds still open.
    case unheld(order: String, type: HoldType, openHolds: [HoldType], lease: Lease?)
    /// MOVE.
    case moved(order: String, stage: Stage)
    /// NOTE: the thread's length and who was mentioned.
    case noted(order: String, notes: Int, mentioned: [String])
    /// WATCH and UNWATCH.
    case watching(order: String, isWatching: Bool)
}

/// An order as a card shows it, as of `now`, with at most `noteLimit` of its newest notes.
public struct OrderView: Sendable, Equatable {
    /// Held only until the reply is encoded, right after the command (a view kept longer would
    /// share the thread's storage and make the next append copy it).
    public var order: Order
    public var now: Instant
    public var noteLimit: Int

    public init(_ order: Order, now: Instant, noteLimit: Int = 10) {
        self.order = order
        self.now = now
        self.noteLimit = noteLimit
    }

}

/// Events marked read by opening an order, and the asker's unread count after.
public struct ReadMarks: Sendable, Equatable {
    public var marked: Int
    public var unread: Int

    public init(marked: Int, unread: Int) {
        self.marked = marked
        self.unread = unread
    }
}
