"""The wire protocol byte by byte: startup, the simple and extended protocols, and
malformed input. Each bad input must end in an error (08P01 for protocol violations) or
a closed connection, while the server keeps serving everyone else and keeps every
committed row."""

from __future__ import annotations

import os
import random
import struct

import pytest
from harness import InProcessServer
from rawclient import RawClient, cstr, data_rows, error_fields, msg, startup_packet

MAX_MESSAGE = 1 << 16


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    with InProcessServer(tmp_path_factory.mktemp("trust"), auth_method="trust",
                         max_message_size=MAX_MESSAGE) as s:
        yield s


def _kinds(messages_):
    return [k for k, _ in messages_]


def _error(messages_):
    for kind, body in messages_:
        if kind == b"E":
            return error_fields(body)
    return None


def _still_serving(server):
    with RawClient(server.port) as c:
        c.login()
        assert data_rows(c.query("SELECT 40 + 2")) == [["42"]]


# ---------------------------------------------------------------------- startup --------

def test_startup_reports_parameters_and_key(trust):
    with RawClient(trust.port) as c:
        got = c.login(application_name="rawtest")
        kinds = _kinds(got)
        assert kinds[0] == b"R" and kinds[-1] == b"Z" and b"K" in kinds
        params = dict(body[:-1].split(b"\0") for k, body in got if k == b"S")
        params = {k.decode(): v.decode() for k, v in params.items()}
        assert params["server_version"].startswith("15.")
        assert params["client_encoding"] == "UTF8"
        assert params["DateStyle"].startswith("ISO")
        assert params["integer_datetimes"] == "on"
        assert params["standard_conforming_strings"] == "on"
        assert params["application_name"] == "rawtest"
        assert params["session_authorization"] == "immusql"
        assert "immusql_version" in params and "TimeZone" in params
        assert got[-1] == (b"Z", b"I")


def test_ssl_and_gssenc_requests_are_declined_without_tls(trust):
    with RawClient(trust.port) as c:
        c.send(struct.pack("!ii", 8, 80877103))
        assert c.read_byte() == b"N"
        c.send(struct.pack("!ii", 8, 80877104))
        assert c.read_byte() == b"N"
        assert c.login()[-1] == (b"Z", b"I")


@pytest.mark.parametrize("packet", [
    struct.pack("!ii", 4, 196608),  # length below the minimum
    struct.pack("!ii", 1 << 30, 196608),  # absurd length
    struct.pack("!i", 12) + struct.pack("!i", 196608) + b"user",  # no terminator
])
def test_malformed_startup_is_refused(trust, packet):
    with RawClient(trust.port) as c:
        c.send(packet)
        got = c.read_until(b"Z")
        err = _error(got)
        assert err is not None and err["C"] == "08P01" and err["S"] == "FATAL"
        assert c.read() is None  # and the connection is closed
    _still_serving(trust)


def test_unsupported_protocol_version(trust):
    with RawClient(trust.port) as c:
        body = struct.pack("!i", 2 << 16) + cstr("user") + cstr("immusql") + b"\0"
        c.send(struct.pack("!i", len(body) + 4) + body)
        err = _error(c.read_until(b"Z"))
        assert err["C"] == "0A000" and "unsupported frontend protocol" in err["M"]


def test_unknown_database_is_3D000(trust):
    with RawClient(trust.port) as c:
        err = _error(c.login(database="no_such_db"))
        assert err["C"] == "3D000" and "no_such_db" in err["M"]


# ---------------------------------------------------------------------- simple query ---

def test_simple_query_several_statements(trust):
    with RawClient(trust.port) as c:
        c.login()
        got = c.query("CREATE TABLE sq (a int PRIMARY KEY); INSERT INTO sq VALUES (1), (2);"
                      " SELECT a FROM sq ORDER BY a; SELECT 'x' AS y")
        tags = [body.rstrip(b"\0").decode() for k, body in got if k == b"C"]
        assert tags == ["CREATE TABLE", "INSERT 0 2", "SELECT 2", "SELECT 1"]
        assert data_rows(got) == [["1"], ["2"], ["x"]]
        c.query("DROP TABLE sq")


def test_statements_of_one_message_are_one_transaction(trust):
    """PostgreSQL: an error in a later statement undoes the earlier ones of the message."""
    with RawClient(trust.port) as c:
        c.login()
        c.query("CREATE TABLE atom (a int)")
        got = c.query("INSERT INTO atom VALUES (1); SELECT 1/0; INSERT INTO atom VALUES (2)")
        assert _error(got)["C"] == "22012"
        assert got[-1] == (b"Z", b"I")
        assert data_rows(c.query("SELECT count(*) FROM atom")) == [["0"]]
        # an explicit COMMIT inside the message commits what came before it
        got = c.query("BEGIN; INSERT INTO atom VALUES (1); COMMIT; INSERT INTO atom "
                      "VALUES (2); SELECT 1/0")
        assert _error(got)["C"] == "22012"
        assert data_rows(c.query("SELECT a FROM atom")) == [["1"]]
        c.query("DROP TABLE atom")


def test_empty_query_and_transaction_status(trust):
    with RawClient(trust.port) as c:
        c.login()
        assert _kinds(c.query("")) == [b"I", b"Z"]
        assert c.query("BEGIN")[-1] == (b"Z", b"T")
        got = c.query("SELECT 1/0")
        assert _error(got)["C"] == "22012" and got[-1] == (b"Z", b"E")
        got = c.query("SELECT 1")
        assert _error(got)["C"] == "25P02" and got[-1] == (b"Z", b"E")
        assert c.query("ROLLBACK")[-1] == (b"Z", b"I")


def test_error_response_fields(trust):
    with RawClient(trust.port) as c:
        c.login()
        err = _error(c.query("SELECT nope FROM pg_class"))
        assert err["S"] == "ERROR" and err["V"] == "ERROR" and err["C"] == "42703"
        assert "nope" in err["M"] and int(err["P"]) == 8
        err = _error(c.query("SELEC 1"))
        assert err["C"] == "42601" and err["P"] == "1"


def test_bad_utf8_in_query_is_an_error_not_a_crash(trust):
    with RawClient(trust.port) as c:
        c.login()
        c.send(msg(b"Q", b"SELECT '\xff\xfe'\0"))
        got = c.read_until(b"Z")
        assert _error(got)["C"] == "22021"
        assert data_rows(c.query("SELECT 1")) == [["1"]]


def test_notice_for_commit_outside_a_block(trust):
    with RawClient(trust.port) as c:
        c.login()
        got = c.query("COMMIT")
        notice = [error_fields(b) for k, b in got if k == b"N"]
        assert notice and notice[0]["C"] == "25P01" and notice[0]["S"] == "WARNING"


# ---------------------------------------------------------------------- extended -------

def _parse(name, sql, oids=()):
    return msg(b"P", cstr(name) + cstr(sql) + struct.pack("!h", len(oids))
               + b"".join(struct.pack("!i", o) for o in oids))


def _bind(portal, stmt, params=(), result_formats=()):
    body = cstr(portal) + cstr(stmt) + struct.pack("!h", 0) + struct.pack("!h", len(params))
    for p in params:
        body += struct.pack("!i", -1) if p is None else struct.pack("!i", len(p)) + p
    body += struct.pack("!h", len(result_formats)) + b"".join(
        struct.pack("!h", f) for f in result_formats)
    return msg(b"B", body)


def _execute(portal="", max_rows=0):
    return msg(b"E", cstr(portal) + struct.pack("!i", max_rows))


SYNC = msg(b"S")


def test_extended_describe_infers_parameter_types(trust):
    with RawClient(trust.port) as c:
        c.login()
        c.query("CREATE TABLE ext (id bigint PRIMARY KEY, name text)")
        c.send(_parse("s1", "SELECT name FROM ext WHERE id = $1") + msg(b"D", b"S" + cstr("s1"))
               + SYNC)
        got = c.read_until(b"Z")
        assert _kinds(got) == [b"1", b"t", b"T", b"Z"]
        t = dict(got)[b"t"]
        assert struct.unpack("!hi", t) == (1, 20)  # one parameter, int8
        c.query("DROP TABLE ext")


def test_portal_row_limit_suspends(trust):
    with RawClient(trust.port) as c:
        c.login()
        c.send(_parse("", "SELECT generate_series(1, 5)") + _bind("p", "")
               + _execute("p", 2) + _execute("p", 2) + _execute("p", 2) + SYNC)
        got = c.read_until(b"Z")
        assert _kinds(got) == [b"1", b"2", b"D", b"D", b"s", b"D", b"D", b"s", b"D", b"C",
                               b"Z"]
        assert data_rows(got) == [["1"], ["2"], ["3"], ["4"], ["5"]]


def test_error_skips_to_sync(trust):
    with RawClient(trust.port) as c:
        c.login()
        c.send(_parse("", "SELECT 1/0") + _bind("", "") + _execute()
               + _parse("", "SELECT 1") + _bind("", "") + _execute() + SYNC
               + _parse("", "SELECT 7") + _bind("", "") + _execute() + SYNC)
        first = c.read_until(b"Z")
        assert _kinds(first) == [b"1", b"2", b"E", b"Z"]
        second = c.read_until(b"Z")
        assert data_rows(second) == [["7"]]


def test_bind_with_wrong_parameter_count(trust):
    with RawClient(trust.port) as c:
        c.login()
        c.send(_parse("", "SELECT $1::int + $2::int") + _bind("", "", [b"1"]) + SYNC)
        got = c.read_until(b"Z")
        err = _error(got)
        assert err["C"] == "08P01" and "requires 2" in err["M"]
        assert got[-1][0] == b"Z"  # protocol errors inside Bind keep the connection


def test_named_statement_reuse_and_close(trust):
    with RawClient(trust.port) as c:
        c.login()
        c.send(_parse("st", "SELECT $1::int * 2") + SYNC)
        c.read_until(b"Z")
        for v in (b"3", b"21"):
            c.send(_bind("", "st", [v]) + _execute() + SYNC)
            assert data_rows(c.read_until(b"Z")) == [[str(int(v) * 2)]]
        c.send(_parse("st", "SELECT 1") + SYNC)
        assert _error(c.read_until(b"Z"))["C"] == "42P05"
        c.send(msg(b"C", b"S" + cstr("st")) + _bind("", "st", [b"1"]) + SYNC)
        got = c.read_until(b"Z")
        assert _kinds(got)[0] == b"3" and _error(got)["C"] == "26000"


def test_pipelined_executes_form_one_transaction(trust):
    with RawClient(trust.port) as c:
        c.login()
        c.query("CREATE TABLE pipe (a int)")
        c.send(_parse("", "INSERT INTO pipe VALUES ($1)") + _bind("", "", [b"1"]) + _execute()
               + _bind("", "", [b"x"]) + _execute() + SYNC)
        got = c.read_until(b"Z")
        assert _error(got)["C"] == "22P02"
        assert data_rows(c.query("SELECT count(*) FROM pipe")) == [["0"]]
        c.query("DROP TABLE pipe")


# ---------------------------------------------------------------------- malformed ------

@pytest.mark.parametrize("payload", [
    msg(b"Q", b"SELECT 1"),  # no terminator inside the message
    b"Q" + struct.pack("!i", 2),  # length below 4
    msg(b"?", b""),  # unknown message type
    _parse("", "SELECT 1") + msg(b"B", b"\0\0\xff\xff") + SYNC,  # negative count
    msg(b"P", cstr("") + cstr("SELECT 1") + struct.pack("!h", 9)) + SYNC,  # past the end
    b"Q" + struct.pack("!i", MAX_MESSAGE + 100),  # over the configured limit
])
def test_malformed_messages(trust, payload):
    with RawClient(trust.port) as c:
        c.login()
        c.send(payload)
        got = c.read_until(b"Z")
        err = _error(got)
        assert err is not None and err["C"] == "08P01", got
    _still_serving(trust)


def test_random_garbage_never_kills_the_server(trust):
    rng = random.Random(1234)
    for _ in range(40):
        with RawClient(trust.port) as c:
            c.login()
            c.send(bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 300))))
            c.sock.shutdown(1)  # half-close: the server sees EOF after the garbage
            while c.read() is not None:
                pass
    _still_serving(trust)


def test_truncated_message_then_disconnect(trust):
    with RawClient(trust.port) as c:
        c.login()
        c.send(b"Q" + struct.pack("!i", 100) + b"SELECT")
    _still_serving(trust)


def test_disconnect_mid_copy_writes_nothing(trust):
    with RawClient(trust.port) as c:
        c.login()
        c.query("CREATE TABLE halfcopy (a int)")
    with RawClient(trust.port) as c:
        c.login()
        c.send(msg(b"Q", cstr("COPY halfcopy FROM STDIN")))
        kind, _ = c.read()
        assert kind == b"G"
        c.send(msg(b"d", b"1\n2\n3\n"))
    with RawClient(trust.port) as c:
        c.login()
        assert data_rows(c.query("SELECT count(*) FROM halfcopy")) == [["0"]]
        c.query("DROP TABLE halfcopy")


def test_disconnect_inside_a_transaction_rolls_back(trust):
    with RawClient(trust.port) as c:
        c.login()
        c.query("CREATE TABLE gone (a int)")
    with RawClient(trust.port) as c:
        c.login()
        c.query("BEGIN; INSERT INTO gone VALUES (1)")
    with RawClient(trust.port) as c:
        c.login()
        assert data_rows(c.query("SELECT count(*) FROM gone")) == [["0"]]
        c.query("DROP TABLE gone")


def test_oversized_startup_parameters(trust):
    with RawClient(trust.port) as c:
        c.send(startup_packet(user="immusql", application_name="x" * 20000))
        err = _error(c.read_until(b"Z"))
        assert err["C"] == "08P01"


def test_terminate_closes(trust):
    with RawClient(trust.port) as c:
        c.login()
        c.send(msg(b"X"))
        assert c.read() is None


def test_many_clients_at_once(trust):
    clients = [RawClient(trust.port) for _ in range(20)]
    try:
        for c in clients:
            c.login()
        for i, c in enumerate(clients):
            c.send(msg(b"Q", cstr(f"SELECT {i}")))
        for i, c in enumerate(clients):
            assert data_rows(c.read_until(b"Z")) == [[str(i)]]
    finally:
        for c in clients:
            c.close()


def test_random_bytes_in_extended_messages(trust):
    rng = random.Random(os.getpid())
    for kind in b"PBDECH":
        with RawClient(trust.port) as c:
            c.login()
            c.send(msg(bytes([kind]), bytes(rng.getrandbits(8) for _ in range(30))) + SYNC)
            got = c.read_until(b"Z")
            assert got == [] or got[-1][0] in (b"Z", b"E")
    _still_serving(trust)
