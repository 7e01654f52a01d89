import OrderDeskCore

/// One change to the desk, as every node of a cluster replays it: the desk call a node made
/// during its write turn, with the instant it ran at (docs/CLUSTER.md).
///
/// A node does not ship what changed; it ships what it asked the desk to do. Every node runs the
/// same `OrderDeskCore` rules on the same inputs in the same order (the log's), so every node's
/// desk holds the same orders, claims, tokens and event ids, and each pushes the events to the
/// sessions it serves. The node that ran an input first also wrote its changes to the tables,
/// which is what a node that joins later loads.
enum ClusterInput: Sendable, Equatable {
    /// A desk command line of a logged-in user (parsed again on replay; `Desk.execute`).
    case command(user: String, line: String, at: Instant)
    case sessionOpened(user: String, at: Instant)
    case sessionClosed(user: String, at: Instant)
    case login(user: String, at: Instant)
    case audit(action: String, detail: String, by: String, at: Instant)
    case addUser(User, by: String, at: Instant)
    case putUser(User)
    case setCredential(Credential, of: String, by: String, at: Instant)
    case tick(at: Instant)
    /// A node that stopped answering (or left): its sessions close, as if each had disconnected.
    case nodeDown(node: String, at: Instant)

    /// The instant the input ran at, if it depends on one.
    var instant: Instant? {
        switch self {
        case .command(_, _, let at), .sessionOpened(_, let at), .sessionClosed(_, let at), .login(_, let at), .audit(_, _, _, let at),
             .addUser(_, _, let at), .setCredential(_, _, _, let at), .tick(let at), .nodeDown(_, let at): at
        case .putUser: nil
        }
    }
}

/// What one commit of a write turn appends to the cluster's log: the inputs, in the order the
/// node ran them, and the desk's counters afterwards, which every node that replays the entry
/// compares with its own (a difference means its copy went its own way: it reloads).
struct ClusterEntry: Sendable, Equatable {
    var node: String
    var inputs: [ClusterInput]
    var counters: DeskCounters
}

/// The log entry's bytes: a version, the counters, then each input as a kind byte and its
/// fields (integers little-endian, texts and byte strings length-prefixed). Decoding checks
/// every length against what is left and throws on anything it does not know; it never traps.
enum ClusterCodec {
    static let version: UInt8 = 1

    static func encode(_ entry: ClusterEntry) -> [UInt8] {
        var out = Writer()
        out.byte(version)
        out.unsigned(entry.counters.nextToken)
        out.unsigned(entry.counters.nextEventID)
        out.signed(entry.counters.nextSequence)
        out.unsigned(UInt64(entry.inputs.count))
        for input in entry.inputs {
            switch input {
            case .command(let user, let line, let at): out.byte(1); out.instant(at); out.text(user); out.text(line)
            case .sessionOpened(let user, let at): out.byte(2); out.instant(at); out.text(user)
            case .sessionClosed(let user, let at): out.byte(3); out.instant(at); out.text(user)
            case .login(let user, let at): out.byte(4); out.instant(at); out.text(user)
            case .audit(let action, let detail, let by, let at): out.byte(5); out.instant(at); out.text(action); out.text(detail); out.text(by)
            case .addUser(let user, let by, let at): out.byte(6); out.instant(at); out.user(user); out.text(by)
            case .putUser(let user): out.byte(7); out.user(user)
            case .setCredential(let credential, let name, let by, let at):
                out.byte(8); out.instant(at); out.credential(credential); out.text(name); out.text(by)
            case .tick(let at): out.byte(9); out.instant(at)
            case .nodeDown(let node, let at): out.byte(10); out.instant(at); out.text(node)
            }
        }
        return out.bytes
    }

    static func decode(_ bytes: [UInt8], node: String) throws(StoreError) -> ClusterEntry {
        var input = Reader(bytes: bytes)
        guard try input.byte() == version else { throw .corrupt("a cluster log entry of an unknown version") }
        let counters = DeskCounters(nextToken: try input.unsigned(), nextEventID: try input.unsigned(), nextSequence: try input.signed())
        let count = try input.unsigned()
        // Each input takes at least a byte: a count past what is left is damage, not a reason to reserve.
        guard count <= UInt64(input.remaining) else { throw .corrupt("a cluster log entry's input count is past its length") }
        var inputs: [ClusterInput] = []
        inputs.reserveCapacity(Int(count))
        for _ in 0..<count {
            let kind = try input.byte()
            // Every input but putUser begins with its instant.
            let at = kind == 7 ? Instant(milliseconds: 0) : try input.instant()
            switch kind {
            case 1: inputs.append(.command(user: try input.text(), line: try input.text(), at: at))
            case 2: inputs.append(.sessionOpened(user: try input.text(), at: at))
            case 3: inputs.append(.sessionClosed(user: try input.text(), at: at))
            case 4: inputs.append(.login(user: try input.text(), at: at))
            case 5: inputs.append(.audit(action: try input.text(), detail: try input.text(), by: try input.text(), at: at))
            case 6: inputs.append(.addUser(try input.user(), by: try input.text(), at: at))
            case 7: inputs.append(.putUser(try input.user()))
            case 8: inputs.append(.setCredential(try input.credential(), of: try input.text(), by: try input.text(), at: at))
            case 9: inputs.append(.tick(at: at))
            case 10: inputs.append(.nodeDown(node: try input.text(), at: at))
            default: throw .corrupt("a cluster log entry holds an input of unknown kind \(kind)")
            }
        }
        guard input.remaining == 0 else { throw .corrupt("a cluster log entry has bytes past its inputs") }
        return ClusterEntry(node: node, inputs: inputs, counters: counters)
    }

    private struct Writer {
        var bytes: [UInt8] = []
        mutating func byte(_ value: UInt8) { bytes.append(value) }
        mutating func unsigned(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        mutating func signed(_ value: Int64) { unsigned(UInt64(bitPattern: value)) }
        mutating func instant(_ value: Instant) { signed(value.milliseconds) }
        mutating func data(_ value: [UInt8]) {
            unsigned(UInt64(value.count))
            bytes.append(contentsOf: value)
        }
        mutating func text(_ value: String) { data(Array(value.utf8)) }
        mutating func credential(_ value: Credential) {
            data(value.salt)
            data(value.hash)
            signed(Int64(value.iterations))
        }
        mutating func user(_ value: User) {
            text(value.name)
            text(value.role.rawValue)
            credential(value.credential)
            byte(value.isDisabled ? 1 : 0)
            byte(value.lastLogin == nil ? 0 : 1)
            signed(value.lastLogin?.milliseconds ?? 0)
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0
        var remaining: Int { bytes.count - position }

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func byte() throws(StoreError) -> UInt8 {
            guard remaining >= 1 else { throw .corrupt("a cluster log entry ends early") }
            defer { position += 1 }
            return bytes[position]
        }
        mutating func unsigned() throws(StoreError) -> UInt64 {
            guard remaining >= 8 else { throw .corrupt("a cluster log entry ends early") }
            var value: UInt64 = 0
            for offset in (0..<8).reversed() { value = value << 8 | UInt64(bytes[position + offset]) }
            position += 8
            return value
        }
        mutating func signed() throws(StoreError) -> Int64 { Int64(bitPattern: try unsigned()) }
        /// An instant from 1970 to the end of year 9999: every node's desk time moves up to the
        /// newest instant it replays, so one past that would stand for good.
        mutating func instant() throws(StoreError) -> Instant {
            let milliseconds = try signed()
            guard (0...253_402_300_799_999).contains(milliseconds) else { throw .corrupt("a cluster log entry's instant is out of range") }
            return Instant(milliseconds: milliseconds)
        }
        mutating func data() throws(StoreError) -> [UInt8] {
            let count = try unsigned()
            guard count <= UInt64(remaining) else { throw .corrupt("a cluster log entry's field is past its length") }
            defer { position += Int(count) }
            return Array(bytes[position..<position + Int(count)])
        }
        mutating func text() throws(StoreError) -> String {
            guard let text = String(validating: try data(), as: UTF8.self) else { throw .corrupt("a cluster log entry's text is not UTF-8") }
            return text
        }
        mutating func credential() throws(StoreError) -> Credential {
            let salt = try data()
            let hash = try data()
            let iterations = try signed()
            guard let count = Int(exactly: iterations), count > 0, count <= Int(Int32.max) else {
                throw .corrupt("a cluster log entry's credential has iterations out of range")
            }
            return Credential(salt: salt, hash: hash, iterations: count)
        }
        mutating func user() throws(StoreError) -> User {
            let name = try text()
            guard let role = Role(rawValue: try text()) else { throw .corrupt("a cluster log entry names an unknown role") }
            let credential = try credential()
            let isDisabled = try byte() != 0
            let hasLogin = try byte() != 0
            let lastLogin = try signed()
            return User(name: name, role: role, credential: credential, isDisabled: isDisabled,
                        lastLogin: hasLogin ? Instant(milliseconds: lastLogin) : nil)
        }
    }
}
