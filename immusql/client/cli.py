"""`immusql verify`, `immusql verify-proof` and `immusql audit`: the verifying client from
the shell, for people who use psql.

Every command prints one verdict line first, `VERIFIED ...` or `TAMPERED (<check>) ...`,
and exits with 0 (verified), 1 (tampered) or 2 (could not verify: connection refused, no
such row, bad arguments). Imports of psycopg and the client happen when a command runs,
so `immusql --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

__all__ = ["add_commands"]

EXIT_VERIFIED, EXIT_TAMPERED, EXIT_ERROR = 0, 1, 2


def _client_options(c: argparse.ArgumentParser, dsn: bool = True) -> None:
    if dsn:
        c.add_argument("--dsn", default=os.environ.get("IMMUSQL_DSN", ""),
                       help="libpq connection string or URI (default: $IMMUSQL_DSN, then "
                            "the PG* environment variables)")
        c.add_argument("--state-dir", default=None,
                       help="where trusted states are kept (default: $IMMUSQL_STATE_DIR "
                            "or ~/.immusql/state)")
        c.add_argument("--identity", default=None,
                       help="name of the server for its state file (default: the public "
                            "key's fingerprint, else host:port)")
    c.add_argument("--public-key", default=os.environ.get("IMMUSQL_PUBLIC_KEY"),
                   help="the server's signing key to pin: PEM file, PEM text or 65-byte "
                        "hex (default: $IMMUSQL_PUBLIC_KEY); every state must be signed "
                        "by it")


def add_commands(sub) -> None:
    """Add `verify`, `verify-proof` and `audit` to the `immusql` subparsers."""
    v = sub.add_parser("verify", help="verify a row, a transaction or the state against "
                       "the trusted state (VERIFIED / TAMPERED)",
                       description="Ask a server for proofs and check them on this side. "
                       "The first call trusts the server's history as it is then (trust on "
                       "first use) unless a state was pinned with `verify state --pin`; "
                       "later calls require it to extend that history. Exit status: 0 "
                       "verified, 1 tampered, 2 could not verify.")
    vs = v.add_subparsers(dest="what", metavar="row|tx|state|get", required=True)
    c = vs.add_parser("row", help="VERIFY ROW: prove and decode one row")
    c.add_argument("table", help="table name, or schema.table (exact spelling)")
    c.add_argument("pk", nargs="*", metavar="COLUMN=VALUE",
                   help="primary-key values (text, as in SQL literals)")
    c.add_argument("--key", help="the row's _key (hex) instead of primary-key values")
    c.add_argument("--history", action="store_true",
                   help="HISTORY OF: the newest version including a deletion")
    c.add_argument("--as-of-tx", type=int, help="the version as of this transaction")
    c.add_argument("--save", metavar="FILE",
                   help="write the proofs as JSON for `immusql verify-proof`")
    _client_options(c)
    c.set_defaults(run=_verify_row)
    c = vs.add_parser("tx", help="VERIFY TX: prove every entry of a transaction")
    c.add_argument("tx_id", type=int)
    c.add_argument("--save", metavar="FILE", help="write the tx proof as JSON")
    _client_options(c)
    c.set_defaults(run=_verify_tx)
    c = vs.add_parser("state", help="prove the server's current state extends the trusted "
                      "one (the auditor's step)")
    c.add_argument("--pin", metavar="FILE",
                   help="first trust this state (JSON: a state object or an "
                        "immusql_state() row), obtained out of band")
    c.add_argument("--forget", action="store_true",
                   help="drop the trusted state first (trust on first use again)")
    _client_options(c)
    c.set_defaults(run=_verify_state)
    c = vs.add_parser("get", help="kv_verified_get: prove the value of a KV API key")
    c.add_argument("key")
    c.add_argument("--hex", action="store_true", help="the key is hexadecimal")
    c.add_argument("--at-tx", type=int)
    _client_options(c)
    c.set_defaults(run=_verify_get)

    c = sub.add_parser("verify-proof", help="check a saved proof offline",
                       description="Check a proof saved as JSON (an entry_proof, a "
                       "tx_proof, `verify row --save` output, or an immusql_state() row "
                       "with its dual proof) against a trusted state, without a server.")
    c.add_argument("file", help="the proof JSON ('-' for stdin)")
    c.add_argument("--trusted-state", metavar="FILE",
                   help="the state to check against (a state object, an immusql_state() "
                        "row, or a client state file). Without it only the proof's own "
                        "consistency is checked")
    c.add_argument("--database", help="which database of a client state file")
    _client_options(c, dsn=False)
    c.set_defaults(run=_verify_proof)

    c = sub.add_parser("audit", help="audit a server: a consistency proof every interval",
                       description="Keep a trusted state and, every --interval, make the "
                       "server prove its current state extends it. Logs one verdict line "
                       "a round, serves Prometheus metrics with --metrics-port, and exits "
                       "1 at the first TAMPERED round (after running --alert-command).")
    _client_options(c)
    c.add_argument("--interval", default="60s", help="time between rounds (60s, 5m, 500ms)")
    c.add_argument("--rounds", type=int, default=0, help="stop after N rounds (0: never)")
    c.add_argument("--metrics-port", type=int,
                   help="serve Prometheus metrics on this port (0: any free port)")
    c.add_argument("--metrics-host", default="127.0.0.1",
                   help="address for the metrics (default 127.0.0.1)")
    c.add_argument("--alert-command",
                   help="shell command run on TAMPERED (IMMUSQL_AUDIT_CHECK and "
                        "IMMUSQL_AUDIT_MESSAGE in its environment)")
    c.add_argument("--sweep", type=int, default=100, metavar="N",
                   help="also prove N whole transactions a round, walking the history "
                        "from tx 1 and wrapping around, so damaged values are found "
                        "(default 100; 0: state consistency only)")
    c.add_argument("--connect-timeout", type=float, default=10)
    c.set_defaults(run=_audit)


# ------------------------------------------------------------------------------ output --

def _print_state(state) -> None:
    if state is None:
        print("trusted state: none")
        return
    signed = "signed" if state.signature is not None else "unsigned"
    print(f"trusted state: db {state.db} tx {state.tx_id} alh {state.alh.hex()} ({signed})")


def _tampered(e) -> int:
    print(f"TAMPERED ({e.check}): {e.message}")
    return EXIT_TAMPERED


def _error(e) -> int:
    text = str(e).strip().splitlines()
    print(f"ERROR: could not verify: {text[0] if text else type(e).__name__}",
          file=sys.stderr)
    return EXIT_ERROR


def _run(args, body) -> int:
    import psycopg

    from ..kv.errors import ImmuSQLError
    from .connection import connect
    from .errors import TamperedError
    try:
        with connect(args.dsn, state_dir=args.state_dir, server_public_key=args.public_key,
                     identity=args.identity) as client:
            return body(client)
    except TamperedError as e:
        return _tampered(e)
    except (psycopg.Error, ImmuSQLError, OSError, ValueError) as e:
        return _error(e)


def _show(v) -> str:
    if isinstance(v, (bytes, bytearray)):
        return "\\x" + bytes(v).hex()
    return repr(v) if isinstance(v, str) else str(v)


def _show_kv(v: bytes) -> str:
    try:
        return repr(v.decode("utf-8"))
    except UnicodeDecodeError:
        return "\\x" + v.hex()


def _save(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


# ---------------------------------------------------------------------------- verify ---

def _split_table(name: str) -> tuple[str | None, str]:
    schema, dot, table = name.rpartition(".")
    return (schema or None) if dot else None, table


def _verify_row(args) -> int:
    from .errors import ClientError
    schema, table = _split_table(args.table)
    pk = {}
    for item in args.pk:
        col, eq, value = item.partition("=")
        if not eq or not col:
            return _error(ClientError(f"expected COLUMN=VALUE, got {item!r}"))
        pk[col] = value
    if bool(pk) == (args.key is not None):
        return _error(ClientError("give the primary key as COLUMN=VALUE ..., or --key HEX"))
    try:
        key = None if args.key is None else bytes.fromhex(args.key.removeprefix("\\x"))
    except ValueError:
        return _error(ClientError(f"--key {args.key!r} is not hexadecimal"))

    def body(client):
        row = client.verify_row(table, pk or None, key=key, schema=schema,
                                history=args.history, as_of_tx=args.as_of_tx)
        where = " ".join(args.pk) if pk else f"_key=\\x{args.key}"
        status = "deleted (tombstone)" if row.deleted else "live"
        print(f"VERIFIED row {row.definition.schema}.{row.definition.name} {where}: {status}"
              f" version written by tx {row.tx_id} at {row.ts.isoformat()}")
        _print_state(row.state)
        for name, value in row.values.items():
            print(f"  {name} = {_show(value)}")
        if row.unchecked:
            print(f"not compared with the shown values: {', '.join(row.unchecked)}")
        if args.save:
            _save(args.save, row.to_json())
        return EXIT_VERIFIED
    return _run(args, body)


def _verify_tx(args) -> int:
    from .rows import describe_entry

    def body(client):
        tx = client.verify_tx(args.tx_id)
        print(f"VERIFIED tx {tx.tx_id} at {tx.ts.isoformat()}: {len(tx.entries)} entries")
        _print_state(tx.state)
        for i, (k, v, md) in enumerate(tx.entries):
            print(f"  {i}: {describe_entry(k, v, md)}  key {k.hex()}  {len(v)} value bytes")
        if args.save:
            _save(args.save, tx.proof.to_json())
        return EXIT_VERIFIED
    return _run(args, body)


def _verify_state(args) -> int:
    def body(client):
        if args.forget:
            client.forget_state()
        if args.pin:
            client.pin_state(_load_json(args.pin))
            print(f"pinned: {args.pin}")
        before = client.state
        state = client.verify_state()
        since = f"from tx {before.tx_id}" if before is not None else "trusted on first use"
        print(f"VERIFIED state of {client.database} ({since})")
        _print_state(state)
        return EXIT_VERIFIED
    return _run(args, body)


def _verify_get(args) -> int:
    from .errors import ClientError
    try:
        key = bytes.fromhex(args.key) if args.hex else args.key.encode()
    except ValueError:
        return _error(ClientError(f"{args.key!r} is not hexadecimal"))

    def body(client):
        e = client.verified_get(key, at_tx=args.at_tx)
        shown = (f"reference to {e.reference[1]!r} (at tx {e.reference[0] or 'latest'})"
                 if e.reference else _show_kv(e.value))
        print(f"VERIFIED key {key!r} = {shown} (tx {e.tx_id})")
        _print_state(e.state)
        return EXIT_VERIFIED
    return _run(args, body)


# ---------------------------------------------------------------------- verify-proof ---

def _load_json(path: str):
    if path == "-":
        return json.load(sys.stdin)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _trusted_from(obj, database: str | None):
    from ..kv.state import State
    from .connection import state_from_json
    from .errors import ClientError
    if isinstance(obj, dict) and isinstance(obj.get("databases"), dict):  # a state file
        dbs = obj["databases"]
        if database is None and len(dbs) != 1:
            raise ClientError(f"the state file holds {len(dbs)} databases: choose one with "
                              f"--database ({', '.join(sorted(dbs))})")
        name = database if database is not None else next(iter(dbs))
        if name not in dbs:
            raise ClientError(f"the state file has no state for database {name!r}")
        return State.from_json(dbs[name])
    return state_from_json(obj)


def _verify_proof(args) -> int:
    from ..kv.errors import ImmuSQLError
    from ..kv.proofs import DualProof, EntryProof, TxProof
    from ..kv.state import State
    from . import checks, rows
    from .connection import load_public_key
    from .errors import TamperedError
    try:
        obj = _load_json(args.file)
        key = None if args.public_key is None else load_public_key(args.public_key)
        trusted = None
        if args.trusted_state:
            trusted = _trusted_from(_load_json(args.trusted_state), args.database)
    except (OSError, ValueError, ImmuSQLError) as e:
        return _error(e)
    try:
        if not isinstance(obj, dict):
            raise TamperedError("malformed", "the file is not a JSON object")
        if "proof" in obj and "schema_proof" in obj:
            proof = checks.parse(EntryProof.from_json, obj["proof"], "row proof")
            sproof = checks.parse(EntryProof.from_json, obj["schema_proof"], "schema proof")
            s1 = checks.check_entry(proof, trusted, key, "row proof")
            state = checks.check_entry(sproof, s1, key, "schema proof")
            schema, table = _split_table(obj["table"]) if isinstance(
                obj.get("table"), str) else (None, None)
            row = rows.check_row(table, schema, None, None, True, None, None,
                                 (proof.key, proof.value, proof.md),
                                 (sproof.key, sproof.value, sproof.md), proof.tx.id)
            status = "deleted (tombstone)" if row.deleted else "live"
            print(f"VERIFIED row of {row.table.schema}.{row.table.name}: {status} version "
                  f"written by tx {proof.tx.id}")
            lines = [f"  {n} = {_show(v)}" for n, v in row.values.items()]
        elif "entries" in obj:
            proof = checks.parse(TxProof.from_json, obj, "tx proof")
            state = checks.check_tx(proof, trusted, key)
            print(f"VERIFIED tx {proof.tx.id}: {proof.tx.nentries} entries")
            lines = [f"  {i}: {rows.describe_entry(*e)}  key {e[0].hex()}"
                     for i, e in enumerate(proof.entries)]
        elif "entry" in obj:
            proof = checks.parse(EntryProof.from_json, obj, "entry proof")
            state = checks.check_entry(proof, trusted, key)
            print(f"VERIFIED entry of tx {proof.tx.id}: "
                  f"{rows.describe_entry(proof.key, proof.value, proof.md)}")
            lines = [f"  key {proof.key.hex()}", f"  value {proof.value.hex()}"]
        elif "dual" in obj and "state" in obj:
            new = checks.parse(State.from_json, obj["state"], "state")
            dual = checks.parse(DualProof.from_json, obj["dual"], "dual proof")
            state = checks.check_state_step(trusted, dual, new, key)
            print(f"VERIFIED state tx {new.tx_id} extends the trusted state")
            lines = []
        else:
            raise TamperedError("malformed", "not a proof: expected an entry_proof, a "
                                "tx_proof, {proof, schema_proof} or {dual, state}")
    except TamperedError as e:
        return _tampered(e)
    if trusted is None:
        print("no trusted state given: the proof is consistent in itself (trust on first "
              "use); it proves nothing about the server's earlier history")
    _print_state(state)
    for line in lines:
        print(line)
    return EXIT_VERIFIED


# ----------------------------------------------------------------------------- audit ----

def _audit(args) -> int:
    from ..kv.errors import ImmuSQLError
    from .audit import Auditor, parse_interval
    try:
        interval = parse_interval(args.interval)
        auditor = Auditor(args.dsn, state_dir=args.state_dir,
                          server_public_key=args.public_key, identity=args.identity,
                          alert_command=args.alert_command,
                          connect_timeout=args.connect_timeout, sweep=args.sweep,
                          out=sys.stdout)
    except (ValueError, ImmuSQLError) as e:
        return _error(e)
    try:
        return auditor.run(interval, rounds=args.rounds or None,
                           metrics_port=args.metrics_port, metrics_host=args.metrics_host)
    except OSError as e:  # the metrics port is taken
        return _error(e)
