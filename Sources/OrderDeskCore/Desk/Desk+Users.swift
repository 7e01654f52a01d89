/// Users over the wire: disabling and enabling them, new passwords, the last login. Adding a
/// user and changing a role are in `Desk.swift`; hashing is the server's (off the desk queue).
extension Desk {
    /// True when an enabled admin other than `name` exists: the desk always keeps one.
    func hasOtherEnabledAdmin(than name: String) -> Bool {
        users.values.contains { $0.role == .admin && !$0.isDisabled && $0.name != name }
    }

    /// USER DISABLE: the user can no longer log in and every claim they hold is handed back
    /// (the old holder and the watchers get `reassigned ... to=nobody` with the reason). The
    /// server then ends the user's sessions. Disabling a disabled user changes nothing.
    mutating func disable(_ name: String, reason: String, by admin: User, now: Instant) throws(DeskError) -> Reply {
        guard var user = users[name] else { throw .userNotFound(name) }
        if user.role == .admin, !user.isDisabled, !hasOtherEnabledAdmin(than: name) { throw .lastAdmin(name) }
        guard name != admin.name else {
            throw .badArguments(usage: CommandSpec.user.usage, detail: "user=\(name) you cannot disable yourself")
        }
        guard !user.isDisabled else {
            return .answer(.disabled(name: name, handedBack: 0))
        }
        user.isDisabled = true
        users[name] = user
        changes.append(.user(user))
        let claimed = index.claims(of: name, orders: orders)
        for var order in claimed {
            guard let lease = order.lease, lease.holder == name else { continue }
            order.claim = .unclaimed
            record("reassigned", "\(name) -> nobody: \(reason)", by: admin.name, on: &order, now: now)
            save(order, now: now)
            notify([name] + order.watchers.sorted(), except: admin.name,
                   .reassigned(order: order.number, from: name, to: nil, by: admin.name, reason: reason, token: nil), now: now)
        }
        let numbers = claimed.map(\.number)
        recordAudit("user-disable", "\(name): \(reason)" + (numbers.isEmpty ? "" : " (handed back \(numbers.joined(separator: ",")))"),
                    by: admin.name, now: now)
        return .answer(.disabled(name: name, handedBack: numbers.count))
    }

    /// USER ENABLE: a disabled user may log in again. Enabling an enabled user changes nothing.
    mutating func enable(_ name: String, by admin: User, now: Instant) throws(DeskError) -> Reply {
        guard var user = users[name] else { throw .userNotFound(name) }
        if user.isDisabled {
            user.isDisabled = false
            users[name] = user
            changes.append(.user(user))
            recordAudit("user-enable", name, by: admin.name, now: now)
        }
        return .answer(.enabled(name: name))
    }

    /// A new password's hash for `name`, once the server computed it: an admin's reset
    /// (USER PASSWORD, audited `user-password`) or the user's own change (PASSWORD, audited
    /// `password-change`). The user may have gone while the hash was computed.
    public mutating func setCredential(_ credential: Credential, of name: String, by actor: String, now: Instant) -> Outcome {
        guard var user = users[name] else { return finish(reply: .failure(.userNotFound(name))) }
        user.credential = credential
        users[name] = user
        changes.append(.user(user))
        if actor == name {
            recordAudit("password-change", "\(name) changed their password", by: actor, now: now)
            return finish(reply: .answer(.passwordSet(name: name, isOwnChange: true)))
        }
        recordAudit("user-password", "\(name) password reset", by: actor, now: now)
        return finish(reply: .answer(.passwordSet(name: name, isOwnChange: false)))
    }

    /// A successful login of `name`: kept as their last login.
    public mutating func recordLogin(of name: String, now: Instant) -> Outcome {
        guard var user = users[name] else { return finish(reply: nil) }
        user.lastLogin = now
        users[name] = user
        changes.append(.user(user))
        return finish(reply: nil)
    }
}
