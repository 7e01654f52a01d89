/// Presence and chat: WHO, AWAY and BACK, direct messages, rooms, queue subscriptions.
extension Desk {
    /// Tells the subscribers of `topic` (a queue's wire name, or `stuck`) that an order entered or left it.
    mutating func notifySubscribers(of topic: String, order: String, change: String, now: Instant) {
        guard let users = subscribers[topic], !users.isEmpty else { return }
        notify(users.sorted(), except: nil, .queue(order: order, queue: topic, change: change), now: now)
    }

    func who() -> Reply {
        .answer(.presence(online.keys.sorted().compactMap { name -> Presence? in
            guard let user = users[name] else { return nil }
            return Presence(user: name, role: user.role, away: away[name], sessions: online[name] ?? 0,
                            claims: index.claimsByHolder[name]?.count ?? 0)
        }))
    }

    mutating func setAway(_ message: String?, user: User) -> Reply {
        away[user.name] = message
        changes.append(.away(user: user.name, message: message))
        return .answer(.status(isAway: message != nil))
    }

    mutating func message(_ text: String, to recipient: String, by user: User, now: Instant) throws(DeskError) -> Reply {
        guard users[recipient] != nil else { throw .userNotFound(recipient) }
        notify([recipient], except: nil, .message(from: user.name, text: text), now: now)
        if let answer = away[recipient], recipient != user.name {
            notify([user.name], except: nil, .away(user: recipient, text: answer), now: now)
        }
        return .answer(.messageSent(to: recipient, isDelivered: isOnline(recipient)))
    }

    mutating func join(_ room: String, user: User, isJoining: Bool) throws(DeskError) -> Reply {
        guard Self.isValidRoom(room) else {
            throw .badArguments(usage: isJoining ? "JOIN <room>" : "LEAVE <room>", detail: "a room name is lower-case letters, digits and - (at most 32)")
        }
        let changed = isJoining ? roomMembers[room, default: []].insert(user.name).inserted : roomMembers[room]?.remove(user.name) != nil
        if changed { changes.append(.membership(user: user.name, kind: "room", name: room, isMember: isJoining)) }
        return .answer(.room(room, members: roomMembers[room]?.count ?? 0))
    }

    mutating func say(_ text: String, in room: String, by user: User, now: Instant) throws(DeskError) -> Reply {
        guard let members = roomMembers[room], members.contains(user.name) else {
            throw .badArguments(usage: "SAY <room> <text>", detail: "JOIN \(room) first")
        }
        notify(members.sorted(), except: user.name, .say(room: room, by: user.name, text: text), now: now)
        return .answer(.room(room, members: members.count))
    }

    func roomListing(for user: User) -> Reply {
        .answer(.rooms(roomMembers.keys.sorted().compactMap { room -> RoomListing? in
            guard let members = roomMembers[room], !members.isEmpty else { return nil }
            return RoomListing(room: room, members: members.count, isJoined: members.contains(user.name))
        }))
    }

    mutating func subscribe(_ topic: String, user: User, isSubscribing: Bool) -> Reply {
        let changed = isSubscribing ? subscribers[topic, default: []].insert(user.name).inserted : subscribers[topic]?.remove(user.name) != nil
        if changed { changes.append(.membership(user: user.name, kind: "queue", name: topic, isMember: isSubscribing)) }
        let mine = subscribers.keys.filter { subscribers[$0]?.contains(user.name) == true }.sorted()
        return .answer(.subscriptions(mine))
    }

    /// Rooms are named like queues: lower-case letters, digits and dashes.
    static func isValidRoom(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 32 && name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }
}
