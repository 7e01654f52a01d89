#!/usr/bin/env python3
"""Prints, as JSON, what a data file holds, read with plain SQL (not with orderdesk's code):
the facts FixtureTests expects the desk to load back after every migration.

Usage: facts.py v1-demo.sqlite > v1-demo.facts.json
Reads a copy, so the fixture itself is never opened for writing.
"""
import json, os, shutil, sqlite3, sys, tempfile

with tempfile.TemporaryDirectory() as scratch:
    copy = os.path.join(scratch, "copy.sqlite")
    shutil.copyfile(sys.argv[1], copy)
    db = sqlite3.connect(copy)

    def rows(sql):
        return [list(row) for row in db.execute(sql)]

    holds = {}
    for row in rows("SELECT order_number, id, type, reason, placed_by, placed_at, released_by, released_at, release_reason FROM holds ORDER BY order_number, id"):
        holds.setdefault(row[0], []).append(row[1:])
    notes = dict(rows("SELECT order_number, COUNT(*) FROM notes GROUP BY order_number"))
    history = dict(rows("SELECT order_number, COUNT(*) FROM history GROUP BY order_number"))
    orders = []
    for row in rows("""SELECT number, sequence, stage, customer, rep, po, currency, priority, ship, captured_at, lines, watchers,
                       claim_holder, claim_token, claim_since, claim_expires, claim_grace FROM orders ORDER BY sequence"""):
        orders.append({
            "number": row[0], "sequence": row[1], "stage": row[2], "customer": row[3], "rep": row[4], "po": row[5],
            "currency": row[6], "priority": row[7], "ship": row[8], "captured_at": row[9], "lines": row[10],
            "watchers": row[11], "claim": row[12:17] if row[12] is not None else None,
            "holds": holds.get(row[0], []), "notes": notes.get(row[0], 0), "history": history.get(row[0], 0),
        })
    mailboxes = {user: {"events": n, "unread_personal": u, "undelivered": d}
                 for user, n, u, d in rows("""SELECT user, COUNT(*), SUM(personal AND NOT read), SUM(NOT delivered)
                                              FROM mailbox GROUP BY user ORDER BY user""")}
    facts = {
        "user_version": rows("PRAGMA user_version")[0][0],
        "users": dict(rows("SELECT name, role FROM users ORDER BY name")),
        "meta": dict(rows("SELECT key, value FROM meta ORDER BY key")),
        "stages": dict(rows("SELECT stage, COUNT(*) FROM orders GROUP BY stage ORDER BY stage")),
        "holds": {"open": rows("SELECT COUNT(*) FROM holds WHERE released_by IS NULL")[0][0],
                  "released": rows("SELECT COUNT(*) FROM holds WHERE released_by IS NOT NULL")[0][0]},
        "notes": rows("SELECT COUNT(*) FROM notes")[0][0],
        "history": rows("SELECT COUNT(*) FROM history")[0][0],
        "mailboxes": mailboxes,
        "memberships": rows("SELECT user, kind, name FROM memberships ORDER BY user, kind, name"),
        "thresholds": rows("SELECT queue, warning, stuck, admins FROM thresholds ORDER BY queue"),
        "audit": rows("SELECT at, actor, action, detail FROM audit ORDER BY rowid"),
        "orders": orders,
    }
    db.close()
json.dump(facts, sys.stdout, indent=1, sort_keys=True)
print()
