"""An SMTP server for tests (aiosmtpd): STARTTLS or implicit TLS, AUTH PLAIN/LOGIN
with one user, each accepted message written to OUT_DIR/<n>.eml.

Usage: smtp_sink.py PORT OUT_DIR CERT KEY MODE USER PASSWORD
MODE: starttls (STARTTLS required before AUTH and MAIL), tls (TLS from the first byte),
or plain (no TLS offered at all: a client must refuse to send its password).
"""
import asyncio
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, out, cert, key, mode, user, password = sys.argv[1:8]
port = int(port)
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)


class Handler:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Handler.count += 1
        path = os.path.join(out, f"{Handler.count}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(b"X-Authenticated: " + str(session.authenticated).encode() + b"\r\n")
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok)


kwargs = dict(hostname="127.0.0.1", port=port, authenticator=authenticator, auth_required=True,
              auth_require_tls=True, decode_data=False)
if mode == "plain":
    kwargs["auth_require_tls"] = False
    controller = Controller(Handler(), **kwargs)
elif mode == "starttls":
    controller = Controller(Handler(), tls_context=context, require_starttls=True, **kwargs)
else:
    # The whole connection is TLS; aiosmtpd only counts STARTTLS as TLS for auth_require_tls.
    kwargs["auth_require_tls"] = False
    controller = Controller(Handler(), ssl_context=context, **kwargs)
controller.start()
print("ready", flush=True)
try:
    asyncio.get_event_loop().run_forever()
except KeyboardInterrupt:
    pass
finally:
    controller.stop()
