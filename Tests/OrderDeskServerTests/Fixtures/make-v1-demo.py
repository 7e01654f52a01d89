#!/usr/bin/env python3
"""Builds v1-demo.sqlite: a data file as orderdesk's schema version 1 writes it.

Usage: make-v1-demo.py ORDERDESK_BINARY OUTPUT.sqlite

Starts `orderdesk serve --demo` on a fresh file, drives it over TCP as the demo users so the
file holds every kind of row (orders in every stage, open and released holds, live claims,
notes, history, read/unread/undelivered mailbox events, memberships, a changed threshold,
audit entries), stops it with SIGTERM and checkpoints the WAL into the main file.
Run it with a binary built from the commit named in README.md beside this script.
"""
import os, re, signal, socket, sqlite3, subprocess, sys, time

binary, output = sys.argv[1], sys.argv[2]
for suffix in ("", "-wal", "-shm", ".lock"):
    if os.path.exists(output + suffix):
        os.remove(output + suffix)

server = subprocess.Popen([binary, "serve", "--demo", "--data", output, "--port", "0", "--log-level", "warning"],
                          stdout=subprocess.PIPE, text=True)
port = None
deadline = time.time() + 60
while port is None and time.time() < deadline:
    line = server.stdout.readline()
    match = re.search(r":(\d+) ", line)
    if match:
        port = int(match.group(1))
if port is None:
    sys.exit("the server did not announce a port")


class Client:
    def __init__(self, user=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffer = b""
        self.events = []
        self.readline()  # HELLO
        if user:
            self.ok("LOGIN %s demo" % user)

    def readline(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def command(self, text):
        self.sock.sendall((text + "\n").encode())
        lines = []
        while True:
            line = self.readline()
            if line.startswith("EVENT "):
                self.events.append(line)
            elif line.startswith("OK") or line.startswith("ERR"):
                lines.append(line)
                return lines
            else:
                lines.append(line)

    def ok(self, text):
        reply = self.command(text)
        if not reply[-1].startswith("OK"):
            raise RuntimeError("%s -> %s" % (text, reply))
        return reply

    def field(self, line, key):
        match = re.search(r"\b%s=(\S+)" % re.escape(key), line)
        return match.group(1) if match else None


ada = Client("ada")
ana = Client("ana")
ben = Client("ben")
sam = Client("sam")
cora = Client("cora")
shop = Client("shop")

# Administration: every audited action kind.
ada.ok("USER ADD dana processor correct-horse-1")
ada.ok("USER ROLE dana sales")
ada.ok("THRESHOLD pricing warning=1h stuck=3h admins=6h")
for _ in range(2):
    reply = Client().command("LOGIN ben wrong")
    assert reply[-1].startswith("ERR login-failed"), reply
ada.ok("UNLOCK ben")

# A captured order with a known shape, watched by customer service.
shop.ok('CAPTURE SO-20001 customer="Fixture Co" rep=sam po=PO-FIX-1 lines=WID-100:2:10.50,GAD-9:1:99.00 priority=high ship=2026-12-15')
cora.ok("WATCH SO-20001")

# ana keeps a live claim with an open credit hold and a note that pings sam.
held = ana.field(ana.ok("NEXT")[-1], "order")
ana.ok("HOLD %s credit over credit limit, @sam please call the customer" % held)
ana.ok("NOTE %s called accounts payable, waiting to hear back" % held)

# SO-20001 goes through a pricing hold and released, then ships.
ana.ok("CLAIM SO-20001")
ana.ok("HOLD SO-20001 pricing price below list, needs approval")
sam.ok("NOTE SO-20001 customer agreed the new price")
ana.ok("UNHOLD SO-20001 pricing customer agreed the new price")
ana.ok("MOVE SO-20001 released")
shop.ok("MOVE SO-20001 shipped")

# One more order is cancelled.
cancelled = ana.field(ana.ok("NEXT")[-1], "order")
ana.ok("MOVE %s cancelled customer cancelled by phone" % cancelled)

# An order ben takes is reassigned to ana (a second live claim of hers) ...
moved = ben.field(ben.ok("NEXT")[-1], "order")
ada.ok("REASSIGN %s ana ben is out this afternoon" % moved)
# ... and one ben takes is force-released.
freed = ben.field(ben.ok("NEXT")[-1], "order")
ada.ok("REASSIGN %s nobody stuck with ben" % freed)

# Memberships, chat and messages: to someone online, to someone offline (waits for login).
sam.ok("SUBSCRIBE stuck")
sam.ok("JOIN sales")
cora.ok("JOIN sales")
cora.ok("SUBSCRIBE pricing")
sam.ok("SAY sales SO-20001 has shipped")
sam.ok("MSG ana can you look at %s?" % held)
sam.ok("MSG cleo welcome back on Monday")

# sam reads one of his events and leaves the rest unread.
inbox = sam.ok("INBOX unread 50")
first = inbox[0][2:].split(" ")[0]
sam.ok("READ %s" % first)
ana.ok("READ all")

for client in (ada, ana, ben, sam, cora, shop):
    client.ok("QUIT")

server.send_signal(signal.SIGTERM)
if server.wait(timeout=60) != 0:
    sys.exit("the server did not stop cleanly")

database = sqlite3.connect(output)
database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
database.close()
for suffix in ("-wal", "-shm", ".lock"):
    if os.path.exists(output + suffix):
        os.remove(output + suffix)
os.chmod(output, 0o600)
print("made %s: held=%s moved=%s freed=%s cancelled=%s" % (output, held, moved, freed, cancelled))
