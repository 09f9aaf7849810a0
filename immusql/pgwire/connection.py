"""One client connection: startup, authentication, then the message loop.

The connection is an asyncio task; everything that touches storage (statements, COPY
batches, describing a statement) runs in the server's thread pool, so one client's long
query never stalls the event loop or the other clients. Output is buffered and written
once per round trip (at ReadyForQuery, Flush, or when the buffer grows large).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import ssl

from .. import errors
from ..planner.session import Result
from . import auth, messages
from .extended import ExtendedProtocol
from .messages import Body, ConnectionLost
from .results import ResultEncoder
from .statements import StatementRunner

log = logging.getLogger("immusql.pgwire")

# ParameterStatus values PostgreSQL reports (GUC_REPORT), sent at startup and on change.
REPORTED = {
    "application_name": "application_name",
    "client_encoding": "client_encoding",
    "DateStyle": "datestyle",
    "default_transaction_read_only": "default_transaction_read_only",
    "in_hot_standby": "in_hot_standby",
    "integer_datetimes": "integer_datetimes",
    "IntervalStyle": "intervalstyle",
    "is_superuser": "is_superuser",
    "server_encoding": "server_encoding",
    "server_version": "server_version",
    "session_authorization": "session_authorization",
    "standard_conforming_strings": "standard_conforming_strings",
    "TimeZone": "timezone",
}

FLUSH_AT = 1 << 16  # bytes buffered before writing mid-result
_EXTENDED = (b"P", b"B", b"D", b"E", b"C")


class Connection:
    def __init__(self, server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.server = server
        self.config = server.config
        self.reader, self.writer = reader, writer
        self.peer = writer.get_extra_info("peername")
        self.out: list[bytes] = []
        self.out_size = 0
        self.tls = False
        self.pid = 0
        self.secret = 0
        self.user = self.database = None
        self.session = None
        self.busy = False  # a statement is running in the thread pool
        self.closing = False
        self.task: asyncio.Task | None = None
        self._counted = False
        self._reported: dict[str, str] = {}

    # ------------------------------------------------------------------ output ---------
    def send(self, data: bytes) -> None:
        self.out.append(data)
        self.out_size += len(data)

    async def flush(self) -> None:
        if self.out:
            self.writer.write(b"".join(self.out))
            self.out.clear()
            self.out_size = 0
        await self.writer.drain()

    async def maybe_flush(self) -> None:
        if self.out_size >= FLUSH_AT:
            await self.flush()

    async def run_blocking(self, fn, *args):
        """Run storage work in the server's pool; the event loop stays free meanwhile."""
        self.busy = True
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self.server.executor, fn, *args)
        finally:
            self.busy = False

    # ------------------------------------------------------------------ lifecycle ------
    async def run(self) -> None:
        try:
            if await self.startup():
                await self.message_loop()
        except ConnectionLost:
            log.debug("connection from %s lost", self.peer)
        except errors.Error as e:
            await self.fatal(e)
        except (ConnectionError, ssl.SSLError) as e:
            log.info("connection from %s closed: %s", self.peer, e)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("internal error on connection from %s", self.peer)
            await self.fatal(errors.InternalError("internal error"))
        finally:
            await self.cleanup()

    async def fatal(self, exc: BaseException) -> None:
        """Tell the client why (severity FATAL) and close."""
        try:
            self.send(messages.error_response(exc, "FATAL"))
            await self.flush()
        except (ConnectionError, RuntimeError, ssl.SSLError):
            pass

    async def cleanup(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            try:
                await self.run_blocking(session.close)
            except Exception:
                log.exception("closing a session failed")
        if self._counted:
            self.server.cluster.connection_closed(self.user, self.database)
            self._counted = False
        self.server.forget(self)
        try:
            self.writer.close()
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError, RuntimeError):
            pass

    # ------------------------------------------------------------------ startup --------
    async def startup(self) -> bool:
        """True once the client is authenticated and ready for queries."""
        while True:
            code, body = await messages.read_startup(self.reader)
            if code == messages.SSL_REQUEST:
                if self.server.ssl_context is not None and not self.tls:
                    self.writer.write(b"S")
                    await self.writer.drain()
                    await self.writer.start_tls(self.server.ssl_context)
                    self.tls = True
                else:
                    self.writer.write(b"N")
                    await self.writer.drain()
                continue
            if code == messages.GSSENC_REQUEST:
                self.writer.write(b"N")
                await self.writer.drain()
                continue
            if code == messages.CANCEL_REQUEST:
                b = Body(body)
                pid, secret = b.int32(), b.int32()
                self.server.cancel(pid, secret)
                return False
            break
        major, minor = code >> 16, code & 0xFFFF
        if major != 3:
            raise errors.FeatureNotSupported(
                f"unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.0")
        params = messages.parse_startup_parameters(body)
        protocol_options = sorted(k for k in params if k.startswith("_pq_."))
        if minor > 0 or protocol_options:
            self.send(messages.negotiate_protocol_version(0, protocol_options))
        if self.config.require_tls and not self.tls:
            raise errors.InvalidAuthorizationSpecification(
                "this server accepts only TLS connections (sslmode=require)")
        user = params.get("user")
        if not user:
            raise errors.InvalidAuthorizationSpecification(
                "no PostgreSQL user name specified in startup packet")
        database = params.get("database") or user
        self.user, self.database = user, database
        await self.authenticate(user)
        cluster = self.server.cluster
        await self.run_blocking(cluster.can_login, user, database)
        if not self.server.admit(self):
            raise errors.TooManyConnections("sorry, too many clients already")
        engine = await self.run_blocking(cluster.engine, database)
        cluster.connection_opened(user, database)
        self._counted = True
        self.session = engine.session(cluster=cluster, user=user, database=database)
        self.session.backend_pid = self.pid
        sock = self.writer.get_extra_info("sockname") or ()
        peer = self.peer or ()
        if len(sock) >= 2 and len(peer) >= 2:  # inet_server_addr() & co.
            self.session.server_addr, self.session.server_port = sock[0], sock[1]
            self.session.client_addr, self.session.client_port = peer[0], peer[1]
        self.encoder = ResultEncoder(self.session)
        self.runner = StatementRunner(self)
        self.extended = ExtendedProtocol(self)
        await self.apply_startup_settings(params)
        self.send(messages.AUTH_OK)
        for name, key in REPORTED.items():
            value = self.session.settings.get(key, "")
            self._reported[name] = value
            self.send(messages.parameter_status(name, value))
        self.send(messages.parameter_status("immusql_version", self.server.version))
        self.send(messages.backend_key_data(self.pid, self.secret))
        self.send(messages.READY["I"])
        await self.flush()
        log.info("connection authorized: user=%s database=%s application_name=%s%s",
                 user, database, self.session.settings.get("application_name", ""),
                 " (TLS)" if self.tls else "")
        return True

    async def apply_startup_settings(self, params: dict) -> None:
        settings = []
        for name, value in params.items():
            if name in ("user", "database", "replication") or name.startswith("_pq_."):
                continue
            if name == "options":
                settings.extend(_command_line_options(value))
            else:
                settings.append((name, value))
        for name, value in settings:
            if name.lower() == "client_encoding":
                value = value.strip("'\"")
            sql = f"SET {_quote_ident(name.lower())} TO {_quote_literal(value)}"
            await self.run_blocking(self.session.execute, sql)

    async def authenticate(self, user: str) -> None:
        method = self.config.auth_method
        if method == "trust":
            return
        cluster = self.server.cluster
        secret = await self.run_blocking(cluster.role_secret, user)
        failed = errors.InvalidPassword(f'password authentication failed for user "{user}"')
        if method == "password":
            if not self.tls and not self.config.allow_cleartext_without_tls:
                raise errors.InvalidAuthorizationSpecification(
                    "cleartext password authentication is allowed only over TLS")
            self.send(messages.AUTH_CLEARTEXT)
            await self.flush()
            password = await self._password_message()
            ok = secret is not None and auth.check_cleartext(
                secret[0] or secret[1], password.rstrip(b"\0"), user)
            if not ok:
                raise failed
            return
        if method == "md5" and secret is not None and secret[1]:
            salt = secrets.token_bytes(4)
            self.send(messages.auth_md5(salt))
            await self.flush()
            response = (await self._password_message()).rstrip(b"\0")
            if not auth.md5_check(secret[1], salt, response):
                raise failed
            return
        # SCRAM-SHA-256; an unknown user runs it against a mock verifier so the exchange
        # does not reveal which roles exist (as PostgreSQL does)
        exchange = auth.ScramExchange(secret[0] if secret is not None else None, user,
                                      mock_nonce=cluster.mock_auth_nonce)
        self.send(messages.auth_sasl(["SCRAM-SHA-256"]))
        await self.flush()
        b = Body(await self._password_message())
        auth.check_mechanism(b.cstring())
        n = b.int32()
        first = b.bytes(n) if n >= 0 else b""
        try:
            self.send(messages.auth_sasl_continue(exchange.server_first(first)))
            await self.flush()
            final = await self._password_message()
            self.send(messages.auth_sasl_final(exchange.server_final(final)))
        except errors.InvalidPassword:
            raise failed from None
        if not exchange.succeeded:
            raise failed

    async def _password_message(self) -> bytes:
        kind, body = await messages.read_message(self.reader, 1 << 20)
        if kind != b"p":
            raise errors.ProtocolViolation(
                f"expected password response, got message type {kind[0]}")
        return body

    # ------------------------------------------------------------------ main loop ------
    async def message_loop(self) -> None:
        max_size = self.config.max_message_size
        pending = None
        while not self.closing:
            kind, body = pending or await messages.read_message(self.reader, max_size)
            pending = None
            if kind in _EXTENDED:
                # the extended protocol buffers its answers until Sync or Flush, so all
                # messages up to there are handled in one trip to the thread pool
                batch = [(kind, body)]
                while kind not in (b"S", b"H"):
                    kind, body = await messages.read_message(self.reader, max_size)
                    if kind not in _EXTENDED and kind not in (b"S", b"H"):
                        pending = (kind, body)
                        break
                    batch.append((kind, body))
                await self.extended_batch(batch)
            elif kind == b"Q":
                await self.runner.simple_query(body)
            elif kind in (b"S", b"H"):
                await self.extended_batch([(kind, body)])
            elif kind == b"X":
                return
            elif kind in (b"d", b"c", b"f"):
                continue  # COPY messages outside COPY: PostgreSQL ignores them
            else:
                raise errors.ProtocolViolation(
                    f"invalid frontend message type {kind[0]}")
        await self.fatal(errors.AdminShutdown(  # shut down while a statement ran
            "terminating connection due to administrator command"))

    async def extended_batch(self, batch: list) -> None:
        ext = self.extended
        start = 0
        while True:
            at = await self.run_blocking(ext.process, batch, start)
            if at is None:
                break
            portal = ext.copy_portal(batch[at][1])  # an Execute of COPY: data comes next
            try:
                await self.runner.copy(portal.prepared.stmt)
                portal.result = Result("COPY")
            except errors.Error as e:
                await self.run_blocking(ext.fail, e)
            start = at + 1
        await self.flush()

    def ready_message(self) -> None:
        """ReadyForQuery, preceded by ParameterStatus for any reported setting changed."""
        settings = self.session.settings
        for name, key in REPORTED.items():
            value = settings.get(key, "")
            if self._reported.get(name) != value:
                self._reported[name] = value
                self.send(messages.parameter_status(name, value))
        self.send(messages.READY[self.session.transaction_status])

    async def shutdown(self) -> None:
        """Server shutdown: finish the running statement, then say goodbye (57P01)."""
        self.closing = True
        if not self.busy:
            await self.fatal(errors.AdminShutdown(
                "terminating connection due to administrator command"))
            self.writer.close()


def _command_line_options(value: str) -> list[tuple[str, str]]:
    """`-c name=value` pairs of the startup `options` parameter (backslash escapes spaces)."""
    words, cur, esc = [], [], False
    for ch in value:
        if esc:
            cur.append(ch)
            esc = False
        elif ch == "\\":
            esc = True
        elif ch.isspace():
            if cur:
                words.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    out, i = [], 0
    while i < len(words):
        w = words[i]
        if w == "-c" and i + 1 < len(words):
            w, i = words[i + 1], i + 1
        elif w.startswith("-c"):
            w = w[2:]
        elif w.startswith("--"):
            w = w[2:]
        else:
            raise errors.InvalidParameterValue(f'invalid command-line argument: "{w}"')
        if "=" not in w:
            raise errors.SyntaxError(f'-c {w} requires a value')
        name, val = w.split("=", 1)
        out.append((name.replace("-", "_"), val))
        i += 1
    return out


def _quote_ident(name: str) -> str:
    """A setting name as SET takes it: bare when it is a plain identifier."""
    if name.replace("_", "").isalnum() and not name[:1].isdigit():
        return name
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
