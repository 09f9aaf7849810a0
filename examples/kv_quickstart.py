"""The embedded store in five minutes: write, read as of the past, prove, verify.

Run: python examples/kv_quickstart.py [DIR]   (default: a fresh temporary directory)
"""

import json
import sys
import tempfile

from immusql.kv import ConflictError, Store, Verifier


def main(path: str) -> None:
    with Store.open(path) as store:
        # Every set() is one transaction, durable (fsynced) when it returns.
        t1 = store.set([(b"account:1", b"100"), (b"account:2", b"0")])
        store.set([(b"account:1", b"60"), (b"account:2", b"40")])
        print("latest:", store.get(b"account:1").value, "as of tx", t1.id, ":",
              store.get(b"account:1", at_tx=t1.id).value)
        print("history:", [(e.revision, e.value) for e in store.history(b"account:1")])

        # Snapshot-isolated transactions: the loser of a race gets ConflictError (40001).
        with store.transaction() as tx:
            balance = int(tx.get(b"account:2").value)
            tx.set(b"account:2", str(balance + 1).encode())
        try:
            a, b = store.transaction(), store.transaction()
            a.set(b"account:1", a.get(b"account:1").value + b"!")
            b.set(b"account:1", b.get(b"account:1").value + b"?")
            a.commit()
            b.commit()
        except ConflictError as e:
            print("conflict detected:", e.sqlstate)

        # A client that trusts nothing but its last verified state.
        verifier = Verifier(store.db)
        proof = store.verifiable_get(b"account:1")
        verifier.verify_entry(proof)
        store.set([(b"account:3", b"7")])
        proof = store.verifiable_get(b"account:2", since_tx=verifier.state.tx_id)
        verifier.verify_entry(proof)
        print("verified; trusted state:", verifier.state.tx_id, verifier.state.alh.hex())
        print("proof JSON (PROOFS.md section 8), first lines:")
        print("\n".join(json.dumps(proof.to_json(), indent=2).splitlines()[:12]))
        print("check:", store.check())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="immusql-"))
