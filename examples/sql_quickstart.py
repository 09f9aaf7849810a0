"""The embedded SQL engine in five minutes: PostgreSQL's SQL, history that never goes away,
and a proof for a row.

Run: python examples/sql_quickstart.py [DIR]   (default: a fresh temporary directory)
"""

import sys
import tempfile

import immusql


def show(cur, sql, params=None):
    cur.execute(sql, params)
    rows = cur.fetchall()
    print(f"{sql}\n  -> {rows}")
    return rows


def main(path: str) -> None:
    conn = immusql.connect(path)      # PEP 249, like sqlite3.connect; psycopg-style %s
    conn.autocommit = True            # every statement its own transaction
    cur = conn.cursor()
    cur.execute("CREATE TABLE account (id int PRIMARY KEY, owner text NOT NULL, "
                "balance numeric(12, 2) NOT NULL CHECK (balance >= 0))")
    cur.execute("CREATE INDEX account_owner ON account (lower(owner))")
    cur.executemany("INSERT INTO account VALUES (%s, %s, %s)",
                    [(1, "Ann", 100), (2, "Bob", 50), (3, "Cy", 0)])

    # A transfer in one transaction: both rows change, or neither does.
    conn.autocommit = False
    cur.execute("UPDATE account SET balance = balance - 30 WHERE id = 1")
    cur.execute("UPDATE account SET balance = balance + 30 WHERE id = 2")
    conn.commit()
    conn.autocommit = True

    # Errors carry PostgreSQL's SQLSTATE; a failed statement writes nothing.
    try:
        cur.execute("UPDATE account SET balance = balance - 500 WHERE id = 3")
    except immusql.IntegrityError as e:
        print(f"refused: {e.sqlstate} {e}")

    # The planner reads through keys and indexes (EXPLAIN shows how).
    show(cur, "SELECT id, balance FROM account WHERE lower(owner) = %s", ("bob",))
    show(cur, "EXPLAIN SELECT * FROM account WHERE id BETWEEN 2 AND 3")

    # Nothing is erased: deletes and updates append versions, and the past stays readable.
    cur.execute("DELETE FROM account WHERE id = 3")
    show(cur, "SELECT id, balance, _deleted, _tx FROM HISTORY OF account "
              "WHERE id IN (1, 3) ORDER BY id, _rev")
    first_tx = show(cur, "SELECT min(_tx) FROM HISTORY OF account")[0][0]
    show(cur, f"SELECT id, balance FROM account AS OF TX {first_tx + 2} ORDER BY id")

    # A row with its proof: the inclusion proof of its entry in the verifiable log, and
    # the proven table definition that decodes it (docs/verify.md).
    cur.execute("VERIFY ROW FROM account WHERE id = 1")
    row = cur.fetchone()
    names = [d.name for d in cur.description]
    values = {n: v for n, v in zip(names, row) if n not in ("proof", "schema_proof")}
    print("VERIFY ROW:", values, f"+ a proof of {len(str(row[names.index('proof')]))} "
          "characters (check it with examples/verify_standalone.py)")
    conn.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="immusql-"))
