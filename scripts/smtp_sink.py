#!/usr/bin/env python3
"""A test SMTP server for Kith's tests: accepts mail on 127.0.0.1:PORT and delivers
each message into the Maildir DIR/Maildir (which the test IMAP server can serve).

Recipients listed in DIR/reject (one per line) get `550`, those in DIR/defer get
`451`, so tests can walk the failure paths. Prints READY when listening.

With `--tls CERT KEY` it speaks TLS from the first byte (port 465 style); with
`--starttls CERT KEY` it offers STARTTLS and refuses mail until the client took it.
With `--auth USER:PASSWORD` (after one of those) it refuses mail until the client logged
in as USER with PASSWORD (AUTH PLAIN or LOGIN, over TLS only).

Usage: smtp_sink.py PORT DIR [--tls|--starttls CERT KEY [--auth USER:PASSWORD]]
       (run with the venv's python: target/mail-venv)
"""
import asyncio
import mailbox
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, root):
        self.root = root
        self.maildir = mailbox.Maildir(os.path.join(root, "Maildir"), create=True)

    def listed(self, name, address):
        try:
            with open(os.path.join(self.root, name), encoding="utf-8") as f:
                return address.lower() in {line.strip().lower() for line in f}
        except FileNotFoundError:
            return False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.listed("reject", address):
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if self.listed("defer", address):
            return f"451 4.3.0 <{address}>: mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.maildir.add(envelope.original_content)
        return "250 Message accepted for delivery"


def main():
    port, root = int(sys.argv[1]), sys.argv[2]
    tls = {}
    if len(sys.argv) >= 6:
        mode, cert, key = sys.argv[3:6]
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        if mode == "--tls":
            tls = {"ssl_context": context}
        elif mode == "--starttls":
            tls = {"tls_context": context, "require_starttls": True}
        else:
            sys.exit(f"unknown mode {mode}")
        if sys.argv[6:7] == ["--auth"]:
            user, password = sys.argv[7].split(":", 1)
            expected = LoginPassword(user.encode(), password.encode())

            def authenticate(server, session, envelope, mechanism, auth_data):
                # Not handled: aiosmtpd then answers the refusal (535) itself.
                return AuthResult(success=auth_data == expected, handled=False)

            tls.update(
                authenticator=authenticate,
                auth_required=True,
                # Behind implicit TLS aiosmtpd does not know the session is encrypted.
                auth_require_tls=mode == "--starttls",
            )
    # Files readable and writable by the IMAP server, which may run as another user.
    os.umask(0)
    controller = Controller(Sink(root), hostname="127.0.0.1", port=port, **tls)
    controller.start()
    print("READY", flush=True)
    try:
        asyncio.new_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
