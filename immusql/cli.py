"""The `immusql` command: work with a store from the shell.

Until the PostgreSQL server lands, the commands act on an embedded store directory
(`--dir`, default `./data`, or IMMUSQL_DIR). Keys and values are taken as UTF-8 text;
`--hex` switches both to hexadecimal for binary data.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

from . import __version__
from .kv import KeyNotFoundError, Store, Verifier
from .kv.errors import ImmuSQLError

DEFAULT_DIR = "./data"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except KeyNotFoundError as e:
        print(f"not found: {e}", file=sys.stderr)
        return 1
    except ImmuSQLError as e:
        print(f"error: {e} (SQLSTATE {e.sqlstate})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `immusql scan | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="immusql",
        description="immusql: a tamper-evident database. Every write is appended to a "
                    "hash-chained log; every read can be proven.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def command(name, run, help_text):
        c = sub.add_parser(name, help=help_text, description=help_text)
        c.set_defaults(run=run)
        if name != "version":
            c.add_argument("--dir", default=os.environ.get("IMMUSQL_DIR", DEFAULT_DIR),
                           help="store directory (default: $IMMUSQL_DIR or ./data)")
            c.add_argument("--hex", action="store_true",
                           help="keys and values are hexadecimal instead of UTF-8 text")
        return c

    c = sub.add_parser("serve", help="run the PostgreSQL wire-protocol server",
                       description="Serve the databases in --dir over the PostgreSQL v3 "
                       "protocol (psql, psycopg, SQLAlchemy, pgbench ... connect unchanged). "
                       "The first start creates the database 'immusql' and the superuser "
                       "'immusql'. Stop with SIGTERM or Ctrl-C: running statements finish.")
    c.set_defaults(run=_serve)
    from .pgwire.config import add_arguments
    add_arguments(c)
    c = sub.add_parser("keygen", help="make an ECDSA P-256 key pair for serve --signing-key",
                       description="Write a new ECDSA P-256 private key (PEM, mode 0600) for "
                       "`immusql serve --signing-key`, and its public key (PEM) next to it "
                       "(key.pem -> key.pub.pem) for clients to pin.")
    c.set_defaults(run=_keygen)
    c.add_argument("--out", default="signing-key.pem",
                   help="private key file (default: signing-key.pem)")
    c.add_argument("--force", action="store_true", help="replace existing files")
    from .client.cli import add_commands as add_client_commands
    add_client_commands(sub)  # verify, verify-proof, audit: immusql/client/cli.py
    command("version", _version, "print the version")
    command("demo", _demo, "write a few entries, read them back with proofs, and verify")
    c = command("set", _set, "commit KEY=VALUE pairs as one transaction")
    c.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
    c.add_argument("--async", dest="synced", action="store_false",
                   help="do not wait for fsync")
    c = command("get", _get, "print the value of KEY (latest, or as of --at-tx)")
    c.add_argument("key")
    c.add_argument("--at-tx", type=int)
    c = command("delete", _delete, "append tombstones for KEYs")
    c.add_argument("keys", nargs="+", metavar="KEY")
    c = command("history", _history, "every version of KEY, tombstones included")
    c.add_argument("key")
    c.add_argument("--desc", action="store_true")
    c.add_argument("--limit", type=int)
    c = command("scan", _scan, "list live keys in order")
    c.add_argument("--prefix", default="")
    c.add_argument("--start")
    c.add_argument("--end")
    c.add_argument("--desc", action="store_true")
    c.add_argument("--limit", type=int)
    c.add_argument("--at-tx", type=int)
    c = command("tx", _tx, "print a transaction's header and entries as JSON")
    c.add_argument("tx_id", type=int)
    command("state", _state, "print the current state (db, tx_id, alh) as JSON")
    c = command("proof", _proof, "print the entry_proof JSON (PROOFS.md section 8) of KEY")
    c.add_argument("key")
    c.add_argument("--since-tx", type=int, default=0,
                   help="the transaction the client already trusts (0: none)")
    c = command("sql", _sql, "run SQL on the embedded database (-c, -f, or interactively)")
    c.add_argument("-c", "--command", action="append", default=[],
                   help="SQL to run (repeatable); statements may be separated by ';'")
    c.add_argument("-f", "--file", action="append", default=[], help="a SQL script to run")
    c.add_argument("--on-error-stop", action="store_true",
                   help="stop at the first failing statement (exit status 3)")
    c = command("check", _check, "re-verify every byte of the store; exit 1 on corruption")
    c = command("rebuild-index", _rebuild, "drop and rebuild the derived key index")
    return p


def _open(args, **options) -> Store:
    return Store.open(args.dir, **options)


def _bytes(args, text: str) -> bytes:
    if not args.hex:
        return text.encode()
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise SystemExit(f"immusql: {text!r} is not hexadecimal (--hex)") from None


def _show(args, data: bytes) -> str:
    if args.hex:
        return data.hex()
    return data.decode("utf-8", errors="backslashreplace")


def _serve(args) -> int:
    import asyncio

    from .pgwire import config as server_config
    from .pgwire.server import serve, setup_logging
    config = server_config.load(args)
    setup_logging(config)
    asyncio.run(serve(config))
    return 0


def _keygen(args) -> None:
    from .signing import fingerprint, write_key_pair
    pub_path, public = write_key_pair(args.out, force=args.force)
    print(f"private key: {args.out} (keep it secret; immusql serve --signing-key {args.out})")
    print(f"public key:  {pub_path}")
    print(f"public key (hex): {public.hex()}")
    print(f"fingerprint (SHA-256): {fingerprint(public)}")


def _version(args) -> None:
    print(f"immusql {__version__}")


def _set(args) -> None:
    entries = []
    for pair in args.pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"immusql set: expected KEY=VALUE, got {pair!r}")
        entries.append((_bytes(args, key), _bytes(args, value)))
    with _open(args, synced=args.synced) as store:
        header = store.set(entries)
    print(f"committed tx {header.id} ({header.nentries} entries)")


def _get(args) -> None:
    with _open(args, read_only=True) as store:
        entry = store.get(_bytes(args, args.key), at_tx=args.at_tx)
    print(_show(args, entry.value))
    print(f"(tx {entry.tx_id}, revision {entry.revision})", file=sys.stderr)


def _delete(args) -> None:
    with _open(args) as store:
        header = store.delete([_bytes(args, k) for k in args.keys])
    print(f"committed tx {header.id} ({header.nentries} tombstones)")


def _history(args) -> None:
    with _open(args, read_only=True) as store:
        for e in store.history(_bytes(args, args.key), desc=args.desc, limit=args.limit):
            value = "<deleted>" if e.deleted else _show(args, e.value)
            print(f"rev {e.revision}\ttx {e.tx_id}\t{value}")


def _scan(args) -> None:
    opt = {k: _bytes(args, getattr(args, k)) for k in ("start", "end")
           if getattr(args, k) is not None}
    with _open(args, read_only=True) as store:
        for e in store.scan(_bytes(args, args.prefix), desc=args.desc, limit=args.limit,
                            at_tx=args.at_tx, **opt):
            print(f"{_show(args, e.key)}\t{_show(args, e.value)}\t(tx {e.tx_id})")


def _tx(args) -> None:
    with _open(args, read_only=True) as store:
        tx = store.tx_by_id(args.tx_id)
    print(json.dumps({"header": tx.header.to_json(),
                      "entries": [{"key": e.key.hex(), "value": e.value.hex(),
                                   "md": e.md.hex()} for e in tx.entries]}, indent=2))


def _state(args) -> None:
    with _open(args, read_only=True) as store:
        print(json.dumps(store.state().to_json(), indent=2))


def _proof(args) -> None:
    with _open(args, read_only=True) as store:
        proof = store.verifiable_get(_bytes(args, args.key), since_tx=args.since_tx or None)
    print(json.dumps(proof.to_json(), indent=2))


def _check(args) -> int:
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        print(f"\rchecked {done}/{total} transactions", end="", file=sys.stderr, flush=True)

    with _open(args, read_only=True) as store:
        report = store.check(progress=progress)
    print(file=sys.stderr)
    print(f"OK: {report.transactions} transactions, {report.entries} entries, "
          f"{report.value_bytes} value bytes verified in {time.monotonic() - started:.2f}s")
    return 0


def _sql(args) -> int:
    """A small psql-like runner: tables printed aligned, errors with their SQLSTATE."""
    import immusql

    from .errors import Error
    conn = immusql.connect(args.dir, autocommit=True)
    scripts = list(args.command) + [open(f, encoding="utf-8").read() for f in args.file]
    interactive = not scripts and sys.stdin.isatty()
    if not scripts and not interactive:
        scripts = [sys.stdin.read()]
    status = 0
    try:
        if interactive:
            print(f"immusql {__version__} (type \\q to quit; statements end with ';')")
            buf = ""
            while True:
                try:
                    line = input("immusql=> " if not buf else "immusql-> ")
                except EOFError:
                    break
                if line.strip() in ("\\q", "quit", "exit"):
                    break
                buf += line + "\n"
                if buf.rstrip().endswith(";"):
                    _run_sql(conn, buf)
                    buf = ""
            return 0
        for script in scripts:
            try:
                _run_sql(conn, script, raise_errors=args.on_error_stop)
            except Error:
                return 3
    finally:
        conn.close()
    return status


def _run_sql(conn, script: str, raise_errors: bool = False) -> None:
    from .errors import Error
    from .parser import parse
    try:
        statements = parse(script)
    except Error as e:
        print(f"ERROR:  {e.message} (SQLSTATE {e.sqlstate})", file=sys.stderr)
        if raise_errors:
            raise
        return
    session = conn._session
    for stmt in statements:
        try:
            result = session.execute_statement(stmt)
        except Error as e:
            print(f"ERROR:  {e.message} (SQLSTATE {e.sqlstate})", file=sys.stderr)
            if e.detail:
                print(f"DETAIL:  {e.detail}", file=sys.stderr)
            if raise_errors:
                raise
            continue
        if result.columns is not None:
            _print_table(result)
        else:
            print(result.tag)


def _print_table(result) -> None:
    from .planner.casts import format_text
    names = [c.name for c in result.columns]
    rows = [["" if v is None else format_text(v, c.type) for v, c in zip(r, result.columns)]
            for r in result.rows]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    print(" " + " | ".join(n.center(w) for n, w in zip(names, widths)))
    print("-" + "-+-".join("-" * w for w in widths) + "-")
    for r in rows:
        print(" " + " | ".join(v.ljust(w) for v, w in zip(r, widths)))
    n = len(rows)
    print(f"({n} row{'s' if n != 1 else ''})")


def _rebuild(args) -> None:
    def progress(done: int, total: int) -> None:
        print(f"\rindexed {done}/{total} transactions", end="", file=sys.stderr, flush=True)

    with _open(args) as store:
        store.rebuild_index(progress=progress)
    print(file=sys.stderr)
    print("index rebuilt")


def _demo(args) -> None:
    """A guided tour: write, read, prove, and verify like an independent client would."""
    with _open(args) as store:
        print(f"store at {os.path.abspath(args.dir)} (db {store.db!r}), "
              f"{store.state().tx_id} transactions so far")
        verifier = Verifier(store.db)
        first = store.set([(b"demo:alice", b"100"), (b"demo:bob", b"50")])
        print(f"tx {first.id}: set demo:alice=100, demo:bob=50")
        proof = store.verifiable_get(b"demo:alice")
        verifier.verify_entry(proof)
        print(f"verified demo:alice=100 in tx {proof.tx.id}; trusted state is now "
              f"tx {verifier.state.tx_id} alh {verifier.state.alh.hex()[:16]}...")
        second = store.set([(b"demo:alice", b"75"), (b"demo:bob", b"75")])
        print(f"tx {second.id}: moved 25 from alice to bob")
        proof = store.verifiable_get(b"demo:bob", since_tx=verifier.state.tx_id)
        verifier.verify_entry(proof)
        print(f"verified demo:bob=75 with a dual proof from tx {proof.dual.source.id} to "
              f"tx {proof.dual.target.id} ({len(proof.dual.inclusion)} inclusion + "
              f"{len(proof.dual.consistency)} consistency hashes)")
        print("history of demo:alice: " + ", ".join(
            f"rev {e.revision}={e.value.decode()} (tx {e.tx_id})"
            for e in store.history(b"demo:alice")))
        report = store.check()
        print(f"check: {report.transactions} transactions and {report.entries} entries "
              f"re-verified, no corruption")
    print("Try: immusql get demo:alice, immusql history demo:alice, immusql proof demo:bob")


if __name__ == "__main__":
    sys.exit(main())
