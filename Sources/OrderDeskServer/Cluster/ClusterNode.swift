import Dispatch
import OrderDeskCore

/// A cluster node's state on the desk queue (docs/CLUSTER.md).
///
/// Every node keeps a whole copy of the desk and serves any session. Only the node holding the
/// **write turn** changes it: it replays what the others logged first, so its copy is the
/// cluster's, then runs its sessions' changes as today (replies held until their commit), each
/// commit carrying a log entry of the inputs. A node without the turn answers look-ups from its
/// copy (at an instant before any lease is due, so a look-up changes nothing) and asks for the
/// turn when a session sends a change; it replays the log every `pollInterval` meanwhile, and
/// pushes the replayed events to the sessions it serves.
final class ClusterNode {
    let store: PostgresStore
    let identity: ClusterIdentity
    /// True from the grant of a turn until the node stops starting new work in it.
    var hasTurn = false
    /// True from the grant until the store was asked to give the turn back.
    var holdsTurn = false
    var isAskingForTurn = false
    var isPolling = false
    /// When the current turn was granted (monotonic ns).
    var turnStarted: UInt64 = 0
    /// Work that needs the turn, in the order it came; run when it is granted.
    var waiters: [() -> Void] = []
    /// Sessions whose next line waits for the turn (`Connection.lineAwaitingCluster`).
    var waitingConnections: [Connection] = []
    /// Sessions whose look-up waits for the next read of the log (so that it sees every change
    /// committed before it arrived), and those whose look-up waits for the read under way.
    var readersWaiting: [Connection] = []
    var readersInPoll: [Connection] = []
    /// A read of the log is wanted as soon as the one under way is back.
    var pollsAgain = false
    /// Inputs run since the last submit to the commit pipeline.
    var recorded: [ClusterInput] = []
    /// Who is logged in on which node (node id -> user -> sessions): replicated like the desk,
    /// so that a node declared down has its sessions closed on every copy alike.
    var sessionsByNode: [String: [String: Int]] = [:]
    /// The database's clock minus this machine's, as of the last turn (ms).
    var clockOffset: Int64 = 0
    /// The newest instant an input ran at: the desk's time never goes back, whichever node's
    /// clock ran the input before.
    var lastInstant = Instant(milliseconds: 0)
    /// Events below this id reached this node's sessions (committed, replayed or pushed): after
    /// a reload, the events from here on in their mailboxes are pushed to them, so a session that
    /// stayed connected through an outage misses nothing the other nodes did meanwhile.
    var eventWatermark: UInt64 = 1
    /// This node's logged-in sessions whose disconnect has not run yet (connection id -> user):
    /// what the cluster's record of this node's sessions must come to after a reload.
    var sessionUsers: [Int: String] = [:]
    /// Set once the other nodes declared this one down, or it has left: it starts no more work.
    var isFenced = false
    /// A tick is waiting for the turn (one at a time).
    var isTickWaiting = false
    var isLeaving = false
    /// What runs once this node has left (or gave up trying), at shutdown.
    var onLeft: (() -> Void)?
    /// A look at whether to end the turn is queued.
    var isEndCheckQueued = false

    init(store: PostgresStore, identity: ClusterIdentity) {
        self.store = store
        self.identity = identity
    }

    /// How long a node keeps the turn while its own sessions keep it busy, before it gives the
    /// others theirs.
    static let turnLimitNanoseconds: UInt64 = 20_000_000
}
