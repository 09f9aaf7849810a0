"""Child process of tests/kv/test_crash.py: commit transactions until SIGKILLed.

Usage: python crash_writer.py STORE_PATH SEED [MAX_TXS]

It opens the store (256 KiB segments, so every log rolls over to new segment files; synced
commits) and commits, in a loop, transactions of 1..50 entries with values from empty to
tens of KB, over a pool of keys that repeat (histories grow), with deletes of live keys and
some transactions made through `store.transaction()`. Its protocol on stdout, one line each,
flushed at once:

    opening                     about to open the store (recovery runs next)
    ready N                     opened; N transactions are committed
    ? N k=H k=- ...             about to commit transaction N with these entries
    N k=H k=- ...               transaction N committed: `commit` returned (acknowledged)

`k` is the user key (ASCII), `H` the SHA-256 hex of the user value, `-` a tombstone. The
parent may kill the process at any moment; the `?` line tells it what a transaction that
became durable without being acknowledged must hold. All choices come from SEED and the
store's contents, so a run is reproducible.
"""

from __future__ import annotations

import hashlib
import random
import sys

SEGMENT_SIZE = 256 * 1024
KEY_POOL = 150
DELETED = "-"


def key_name(i: int) -> bytes:
    return b"k%03d" % i


def value_size(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.05:
        return 0
    if r < 0.65:
        return rng.randint(1, 120)
    if r < 0.92:
        return rng.randint(121, 1500)
    if r < 0.985:
        return rng.randint(3000, 9000)  # "bigger than a few KB"
    return rng.randint(20_000, 70_000)


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def describe(writes: dict[bytes, str]) -> str:
    return " ".join(f"{k.decode()}={h}" for k, h in writes.items())


def main(argv: list[str]) -> int:
    path, seed = argv[1], int(argv[2])
    max_txs = int(argv[3]) if len(argv) > 3 else 5000  # bounded even if nobody kills us
    rng = random.Random(seed)
    # Some runs checkpoint after (nearly) every commit, so kills also land in checkpoints.
    checkpoint_every = rng.choice([1, 3, 20, 2000])

    from immusql.kv import Store

    emit("opening")
    store = Store.open(path, segment_size=SEGMENT_SIZE, synced=True,
                       checkpoint_every_txs=checkpoint_every)
    live = {e.key for e in store.scan()}  # user keys with a live value
    emit(f"ready {store.last_committed}")

    for _ in range(max_txs):
        tx_id = store.last_committed + 1  # the only writer: this is the next id
        kind = rng.random()
        writes: dict[bytes, str] = {}
        if kind < 0.15 and live:
            keys = rng.sample(sorted(live), rng.randint(1, min(5, len(live))))
            for k in keys:
                writes[k] = DELETED
            emit(f"? {tx_id} {describe(writes)}")
            header = store.delete(keys)
        elif kind < 0.35:
            values: dict[bytes, bytes | None] = {}
            with store.transaction() as tx:
                for i in rng.sample(range(KEY_POOL), rng.randint(1, 50)):
                    k = key_name(i)
                    if k in live and rng.random() < 0.2:
                        tx.get(k)
                        tx.delete(k)
                        values[k] = None
                    else:
                        v = rng.randbytes(value_size(rng))
                        tx.set(k, v)
                        values[k] = v
                        if rng.random() < 0.05:  # set then delete in the same tx
                            tx.delete(k)
                            values[k] = None
                for k, v in values.items():
                    writes[k] = DELETED if v is None else hashlib.sha256(v).hexdigest()
                emit(f"? {tx_id} {describe(writes)}")
                # leaving the `with` block commits
            header = None
            if store.last_committed < tx_id:
                print(f"transaction did not commit tx {tx_id}", file=sys.stderr)
                return 3
        else:
            entries = []
            for i in rng.sample(range(KEY_POOL), rng.randint(1, 50)):
                v = rng.randbytes(value_size(rng))
                entries.append((key_name(i), v))
                writes[key_name(i)] = hashlib.sha256(v).hexdigest()
            emit(f"? {tx_id} {describe(writes)}")
            header = store.set(entries)
        if header is not None and header.id != tx_id:
            print(f"expected tx {tx_id}, committed {header.id}", file=sys.stderr)
            return 3
        for k, h in writes.items():
            if h == DELETED:
                live.discard(k)
            else:
                live.add(k)
        emit(f"{tx_id} {describe(writes)}")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
