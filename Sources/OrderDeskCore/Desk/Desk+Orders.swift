/// Handlers that change an order's content: capture, holds, stage moves, notes, watchers.
extension Desk {
    mutating func capture(_ draft: OrderDraft, by user: User, now: Instant) throws(DeskError) -> Reply {
        try checkCapture(draft)
        var order = Order(draft: draft, capturedAt: now, sequence: nextSequence())
        record("captured", "by \(user.name), \(draft.lines.count) lines, total \(order.total.decimal) \(draft.currency)", by: user.name, on: &order, now: now)
        save(order, now: now)
        notify(Array(order.watchers), except: user.name, .captured(order: order.number, customer: order.customer, by: user.name), now: now)
        flow.captured &+= 1
        return .answer(.captured(order: order.number, total: order.total, currency: order.currency))
    }

    /// Captures an order as of `capturedAt` (imports and demo data); the same rules as CAPTURE.
    public mutating func importOrder(_ draft: OrderDraft, by actor: String, capturedAt: Instant) -> Outcome {
        do throws(DeskError) {
            try checkCapture(draft)
        } catch {
            return Outcome(reply: .failure(error))
        }
        var order = Order(draft: draft, capturedAt: capturedAt, sequence: nextSequence())
        record("captured", "imported by \(actor), \(draft.lines.count) lines, total \(order.total.decimal) \(draft.currency)", by: actor, on: &order, now: capturedAt)
        save(order, now: capturedAt)
        return finish(reply: .answer(.captured(order: order.number, total: order.total, currency: order.currency)))
    }

    /// The rules every new order meets, however it arrives: a new number, a rep who is a user
    /// (someone must hear of it when it sticks), and amounts the desk can add up.
    func checkCapture(_ draft: OrderDraft) throws(DeskError) {
        guard orders[draft.number] == nil else { throw .orderExists(draft.number) }
        guard users[draft.rep] != nil else { throw .userNotFound(draft.rep) }
        guard Money.total(of: draft.lines) != nil else { throw .amountTooLarge(what: "the order total") }
    }

    mutating func hold(_ number: String, type: HoldType, reason: String, by user: User, now: Instant) throws(DeskError) -> Reply {
        var order = try existingOrder(number)
        try requireHolder(order, user)
        guard !order.stage.isTerminal else { throw .illegalMove(order: number, from: order.stage, action: "hold") }
        guard order.openHold(ofType: type) == nil else { throw .holdExists(order: number, type: type) }
        detachThread(of: number)
        let hold = Hold(id: order.holds.count + 1, type: type, reason: reason, placedBy: user.name, placedAt: now)
        order.holds.append(hold)
        order = renewed(order, by: user.name, now: now)
        record("hold", "\(type.rawValue): \(reason)", by: user.name, on: &order, now: now)
        save(order, now: now)
        let mentioned = mentionedUsers(in: reason)
        notify(audience(of: order).filter { !mentioned.contains($0) }, except: user.name,
               .hold(order: number, type: type, by: user.name, reason: reason), now: now)
        notify(mentioned, except: user.name, .mention(order: number, by: user.name, text: reason), now: now)
        flow.holdsPlaced[type, default: 0] &+= 1
        return .answer(.held(order: number, hold: hold.id, type: type, lease: order.lease))
    }

    mutating func unhold(_ number: String, type: HoldType, reason: String, by user: User, now: Instant) throws(DeskError) -> Reply {
        var order = try existingOrder(number)
        try requireHolder(order, user)
        guard let index = order.holds.firstIndex(where: { $0.isOpen && $0.type == type }) else {
            throw .noOpenHold(order: number, type: type)
        }
        let placedAt = order.holds[index].placedAt
        detachThread(of: number)
        order.holds[index].status = .released(by: user.name, at: now, reason: reason)
        flow.holdReleased(type, after: now - placedAt)
        order = renewed(order, by: user.name, now: now)
        record("unhold", "\(type.rawValue): \(reason)", by: user.name, on: &order, now: now)
        save(order, now: now)
        let mentioned = mentionedUsers(in: reason)
        notify(audience(of: order).filter { !mentioned.contains($0) }, except: user.name,
               .unhold(order: number, type: type, by: user.name, reason: reason), now: now)
        notify(mentioned, except: user.name, .mention(order: number, by: user.name, text: reason), now: now)
        return .answer(.unheld(order: number, type: type, openHolds: order.openHolds.map(\.type), lease: order.lease))
    }

    mutating func move(_ number: String, to target: Stage, reason: String?, by user: User, now: Instant) throws(DeskError) -> Reply {
        var order = try existingOrder(number)
        let from = order.stage
        guard from.canMove(to: target) else { throw .illegalMove(order: number, from: from, action: "move to \(target.rawValue)") }
        try requireMovePermission(order, to: target, user)
        if target != .cancelled {
            let open = order.openHolds
            guard open.isEmpty else { throw .openHolds(order: number, types: open.map(\.type)) }
        }
        if target == .cancelled, reason == nil {
            throw .badArguments(usage: CommandSpec.move.usage, detail: "cancelling needs a reason")
        }
        detachThread(of: number)
        // Whoever held the order hears of the move, even when someone else made it.
        let audience = audience(of: order)
        order.stage = target
        order.stageChangedAt = now
        if target == .released { order.release = (user.name, now) }
        // The processor's work ends when the order leaves capture: the claim goes with it.
        order.claim = .unclaimed
        if target == .cancelled {
            // A cancelled order needs no more work: its open holds are closed with it.
            for index in order.holds.indices where order.holds[index].isOpen {
                order.holds[index].status = .released(by: user.name, at: now, reason: "order cancelled")
                flow.holdReleased(order.holds[index].type, after: now - order.holds[index].placedAt)
            }
        }
        record("stage", "\(from.rawValue) -> \(target.rawValue)" + (reason.map { ": \($0)" } ?? ""), by: user.name, on: &order, now: now)
        save(order, now: now)
        notify(audience, except: user.name, .stage(order: number, from: from, to: target, by: user.name, reason: reason), now: now)
        flow.moves[target, default: 0] &+= 1
        if target == .shipped { flow.cycleSeconds.record(max(0, (now - order.capturedAt).value) / 1000) }
        return .answer(.moved(order: number, stage: target))
    }

    /// protocol.md's table: who may make each move.
    private func requireMovePermission(_ order: Order, to target: Stage, _ user: User) throws(DeskError) {
        switch (order.stage, target, user.role) {
        case (_, _, .admin): return
        case (.released, .shipped, .integration): return
        case (.captured, .released, .processor), (.captured, .cancelled, .processor): try requireHolder(order, user)
        default: throw .denied(command: "MOVE \(order.stage.rawValue) -> \(target.rawValue)", role: user.role)
        }
    }

    mutating func note(_ number: String, text: String, by user: User, now: Instant) throws(DeskError) -> Reply {
        var order = try takeForChange(number)
        appendNote(Note(author: user.name, at: now, text: text), to: &order)
        order = renewed(order, by: user.name, now: now)
        record("note", text, by: user.name, on: &order, now: now)
        save(order, now: now)
        let mentioned = mentionedUsers(in: text)
        notify(audience(of: order).filter { !mentioned.contains($0) }, except: user.name, .note(order: number, by: user.name, text: text), now: now)
        notify(mentioned, except: user.name, .mention(order: number, by: user.name, text: text), now: now)
        return .answer(.noted(order: number, notes: order.notes.count, mentioned: mentioned))
    }

    mutating func watch(_ number: String, user: User, isWatching: Bool, now: Instant) throws(DeskError) -> Reply {
        var order = try existingOrder(number)
        let changed = isWatching ? order.watchers.insert(user.name).inserted : order.watchers.remove(user.name) != nil
        if changed { save(order, now: now) }
        return .answer(.watching(order: number, isWatching: isWatching))
    }

    /// Who hears about changes to `order`: its watchers and its holder.
    func audience(of order: Order) -> [String] {
        order.watchers.sorted() + (order.lease.map { [$0.holder] } ?? [])
    }

    /// Users named as `@name` in `text` who exist.
    func mentionedUsers(in text: String) -> [String] {
        Note(author: "", at: Instant(milliseconds: 0), text: text).mentions.filter { users[$0] != nil }
    }
}
