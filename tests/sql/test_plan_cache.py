"""Cached plans follow what a query's meaning depends on besides its text and catalog."""

from __future__ import annotations

import immusql


def rows(cur, sql, params=None):
    cur.execute(sql, params)
    return cur.fetchall()


def test_a_cached_plan_follows_search_path_and_timezone(tmp_path):
    conn = immusql.connect(tmp_path, autocommit=True)
    cur = conn.cursor()
    for s in ("a", "b"):
        cur.execute(f"CREATE SCHEMA {s}")
        cur.execute(f"CREATE TABLE {s}.t (x text)")
        cur.execute(f"INSERT INTO {s}.t VALUES ('from {s}')")
    seen = []
    for s in ("a", "b", "a"):
        cur.execute(f"SET search_path = {s}")
        seen.append(rows(cur, "SELECT x FROM t"))
    assert seen == [[("from a",)], [("from b",)], [("from a",)]]
    cur.execute("CREATE TABLE public.z (t timestamptz)")
    cur.execute("INSERT INTO public.z VALUES ('2024-01-01 12:00+00')")
    counts = []
    for tz in ("UTC", "America/New_York", "UTC"):
        cur.execute(f"SET TimeZone = '{tz}'")
        counts.append(rows(cur, "SELECT count(*) FROM public.z WHERE t = %s",
                           ("2024-01-01 12:00",))[0][0])
    assert counts == [1, 0, 1]
    conn.close()
