"""`immusql serve`: the asyncio listener, its connections, cancellation and shutdown.

Shutdown (SIGTERM or SIGINT) is PostgreSQL's "fast" mode made gentle: stop accepting,
let every running statement finish (so a commit in flight completes and is fsynced),
roll back open transaction blocks, tell each client 57P01, then close every store.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
import secrets
import signal
import ssl
import sys
from concurrent.futures import ThreadPoolExecutor

from .. import __version__, errors
from .config import ServerConfig
from .connection import Connection

log = logging.getLogger("immusql.pgwire")


class Server:
    def __init__(self, config: ServerConfig, cluster):
        self.config = config
        self.cluster = cluster
        self.version = __version__
        self.executor = ThreadPoolExecutor(max_workers=config.max_connections + 4,
                                           thread_name_prefix="immusql-sql")
        self.connections: dict[int, Connection] = {}
        self.admitted: set[int] = set()
        self.tasks: set[asyncio.Task] = set()
        self._pids = itertools.count(1000)
        self._listener: asyncio.base_events.Server | None = None
        self.ssl_context = _ssl_context(config) if config.tls_cert else None
        self.addresses: list[tuple[str, int]] = []

    async def start(self) -> None:
        hosts = _hosts(self.config.host)
        self._listener = await asyncio.start_server(
            self._accept, hosts, self.config.port, limit=1 << 20,
            reuse_address=True, start_serving=True)
        self.addresses = [s.getsockname()[:2] for s in self._listener.sockets]

    async def _accept(self, reader, writer) -> None:
        conn = Connection(self, reader, writer)
        conn.pid = next(self._pids)
        conn.secret = secrets.randbits(31)
        self.connections[conn.pid] = conn
        task = conn.task = asyncio.current_task()
        self.tasks.add(task)
        try:
            await conn.run()
        finally:
            self.tasks.discard(task)

    def admit(self, conn: Connection) -> bool:
        if len(self.admitted) >= self.config.max_connections:
            return False
        self.admitted.add(conn.pid)
        return True

    def forget(self, conn: Connection) -> None:
        self.connections.pop(conn.pid, None)
        self.admitted.discard(conn.pid)

    def cancel(self, pid: int, secret: int) -> None:
        """CancelRequest: interrupt that backend's running statement, if the key matches."""
        conn = self.connections.get(pid)
        if conn is None or conn.secret != secret:
            log.info("cancel request for unknown backend %s ignored", pid)
            return
        if conn.session is not None and conn.busy:
            conn.session.cancel()

    def sessions_of(self, database: str) -> list[Connection]:
        return [c for c in self.connections.values() if c.database == database and c.session]

    async def terminate(self, database: str) -> None:
        """End every session on `database` and wait until they are gone (DROP ... FORCE)."""
        victims = self.sessions_of(database)
        for conn in victims:
            if conn.busy:
                conn.session.cancel()
            await conn.shutdown()
        await asyncio.gather(*(c.task for c in victims), return_exceptions=True)

    async def shutdown(self) -> None:
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
        for conn in list(self.connections.values()):
            if conn.session is not None and conn.busy:
                conn.session.cancel()  # a query may run for hours; a commit is not cut
            await conn.shutdown()
        if self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
        self.executor.shutdown(wait=True)
        self.cluster.close()


def _hosts(spec: str) -> list[str]:
    hosts = [h.strip() for h in spec.split(",") if h.strip()]
    return [("0.0.0.0" if h == "*" else h) for h in hosts] or ["127.0.0.1"]


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _ssl_context(config: ServerConfig) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as e:
        raise errors.InvalidParameterValue(
            f"cannot load TLS certificate {config.tls_cert} / key {config.tls_key}: {e}") \
            from e
    return ctx


def setup_logging(config: ServerConfig) -> None:
    handler = (logging.FileHandler(config.log_file) if config.log_file
               else logging.StreamHandler(sys.stderr))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.log_level.upper())


async def serve(config: ServerConfig, ready=None) -> None:
    """Run until SIGTERM/SIGINT (or `stop` is set). `ready(server)` is called once listening."""
    from .cluster import ServerCluster
    cluster = ServerCluster.open(config.dir, admin_password=config.admin_password,
                                 engine_options=_signing_options(config))
    try:
        if cluster.default_password_in_force:
            log.warning("!!! the superuser 'immusql' has the default password 'immusql': set "
                        "IMMUSQL_ADMIN_PASSWORD (or ALTER ROLE immusql PASSWORD '...') "
                        "before exposing this server !!!")
            exposed = [h for h in _hosts(config.host) if not is_loopback(h)]
            if exposed and config.auth_method != "trust":
                raise errors.InvalidAuthorizationSpecification(
                    f"refusing to listen on {', '.join(exposed)} while the superuser "
                    "'immusql' has the default password; set IMMUSQL_ADMIN_PASSWORD")
        server = Server(config, cluster)
        cluster.terminate_backends = _threadsafe_terminate(server)
        await server.start()
    except BaseException:
        cluster.close()
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests)
            pass
    for host, port in server.addresses:
        log.info("listening on %s port %d", host, port)
    log.info("database directory %s; ready to accept connections", config.dir)
    if ready is not None:
        ready(server, stop)
    await stop.wait()
    log.info("shutting down: finishing running statements")
    await server.shutdown()
    log.info("shut down cleanly")


def _signing_options(config: ServerConfig) -> dict:
    """Store options for --signing-key (every database's states are signed with it); the
    key is read and checked now, and its public half logged for clients to pin."""
    if not config.signing_key:
        return {}
    from ..signing import fingerprint, load_signing_key
    pem, public = load_signing_key(config.signing_key)
    log.info("signing states with %s: public key %s (SHA-256 fingerprint %s); "
             "SELECT immusql_public_key() returns it too", config.signing_key, public.hex(),
             fingerprint(public))
    return {"signing_key": pem}


def _threadsafe_terminate(server: Server):
    """DROP DATABASE ... WITH (FORCE) runs in a worker thread; the connections live in
    the event loop."""
    loop = asyncio.get_running_loop()

    def terminate(database: str) -> None:
        asyncio.run_coroutine_threadsafe(server.terminate(database), loop).result()
    return terminate
