/// Whether someone holds an order.
///
/// The lease is boxed (`indirect`): most orders are unclaimed, and an inline lease would make
/// every one of a million restored orders 56 bytes larger.
public enum ClaimState: Sendable, Equatable {
    case unclaimed
    indirect case claimed(Lease)
}

/// A claim on an order: a lease with a deadline, renewed by the holder's actions.
public struct Lease: Sendable, Equatable {
    public var holder: String
    /// Fencing token: every new claim gets a larger one than any before it.
    public var token: UInt64
    public var since: Instant
    /// When the lease runs out unless renewed.
    public var expires: Instant
    /// True once the holder has been warned that this lease is about to run out.
    public var isWarned: Bool
    /// Set while none of the holder's sessions is connected: the claim is dropped at this instant.
    public var graceEnds: Instant?

    public init(holder: String, token: UInt64, since: Instant, expires: Instant, isWarned: Bool = false, graceEnds: Instant? = nil) {
        self.holder = holder
        self.token = token
        self.since = since
        self.expires = expires
        self.isWarned = isWarned
        self.graceEnds = graceEnds
    }

    /// The earlier of the lease end and the grace end: when the desk must next look at it.
    public var deadline: Instant { graceEnds.map { min($0, expires) } ?? expires }
}
