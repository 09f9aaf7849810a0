"""The server's settings: flags, `IMMUSQL_*` environment variables, a TOML config file.

Every setting can come from all three places; a flag beats the environment, which beats
the file, which beats the default. The same table drives the command line's help, so a
setting cannot exist in one place and be missing from another.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from dataclasses import dataclass, fields

from .. import errors

AUTH_METHODS = ("scram-sha-256", "md5", "password", "trust")


@dataclass
class ServerConfig:
    dir: str = "./data"
    host: str = "127.0.0.1"
    port: int = 5432
    tls_cert: str | None = None
    tls_key: str | None = None
    require_tls: bool = False
    max_connections: int = 100
    auth_method: str = "scram-sha-256"
    admin_password: str | None = None
    allow_cleartext_without_tls: bool = False
    max_message_size: int = 1 << 30
    log_file: str | None = None
    log_level: str = "info"
    signing_key: str | None = None


HELP = {
    "dir": "data directory (created on first start)",
    "host": "address(es) to listen on, comma-separated; '*' for all",
    "port": "TCP port; 0 picks a free one (printed at start)",
    "tls_cert": "PEM certificate chain: enables TLS (answers SSLRequest with S)",
    "tls_key": "PEM private key of --tls-cert",
    "require_tls": "refuse connections that did not negotiate TLS",
    "max_connections": "most client connections served at once",
    "auth_method": "password check: " + ", ".join(AUTH_METHODS) + " (trust: no password "
                   "at all, only when you ask for it)",
    "admin_password": "password of the superuser 'immusql' set on first start "
                      "(also IMMUSQL_ADMIN_PASSWORD)",
    "allow_cleartext_without_tls": "let auth-method=password work over plain TCP",
    "max_message_size": "largest protocol message accepted, in bytes",
    "log_file": "append the log here instead of stderr",
    "log_level": "debug, info, warning or error",
    "signing_key": "PEM ECDSA P-256 private key: sign every state the server returns",
}


def _env_name(name: str) -> str:
    return "IMMUSQL_" + name.upper()


def _convert(name: str, value, kind):
    if value is None:
        return None
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise errors.InvalidParameterValue(f"{name}: expected a boolean, got {value!r}")
    if kind is int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise errors.InvalidParameterValue(
                f"{name}: expected an integer, got {value!r}") from None
    return str(value)


def _kind(f) -> type:
    t = str(f.type)
    return bool if t.startswith("bool") else int if t.startswith("int") else str


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE",
                   help="TOML file of settings (keys as the flags, with - or _); also "
                        "IMMUSQL_CONFIG")
    for f in fields(ServerConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = _kind(f)
        help_text = f"{HELP[f.name]} (env {_env_name(f.name)}; default {f.default})"
        if kind is bool:
            p.add_argument(flag, dest=f.name, action="store_const", const=True,
                           default=None, help=help_text)
        else:
            p.add_argument(flag, dest=f.name, default=None, type=kind, help=help_text)


def load(args: argparse.Namespace | None = None, environ=None) -> ServerConfig:
    environ = os.environ if environ is None else environ
    values: dict = {}
    path = getattr(args, "config", None) or environ.get("IMMUSQL_CONFIG")
    known = {f.name: f for f in fields(ServerConfig)}
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as e:
            raise errors.InvalidParameterValue(f"cannot read config file {path}: {e}") from e
        except tomllib.TOMLDecodeError as e:
            raise errors.InvalidParameterValue(f"config file {path}: {e}") from e
        for key, value in data.items():
            name = key.replace("-", "_")
            if name not in known:
                raise errors.InvalidParameterValue(
                    f"config file {path}: unknown setting {key!r}")
            values[name] = _convert(key, value, _kind(known[name]))
    for name, f in known.items():
        env = environ.get(_env_name(name))
        if env is not None and env != "":
            values[name] = _convert(_env_name(name), env, _kind(f))
    if args is not None:
        for name in known:
            v = getattr(args, name, None)
            if v is not None:
                values[name] = v
    config = ServerConfig(**values)
    validate(config)
    return config


def validate(c: ServerConfig) -> None:
    if c.auth_method not in AUTH_METHODS:
        raise errors.InvalidParameterValue(
            f"auth-method must be one of {', '.join(AUTH_METHODS)}, not {c.auth_method!r}")
    if not 0 <= c.port <= 65535:
        raise errors.InvalidParameterValue(f"port {c.port} is out of range")
    if c.max_connections < 1:
        raise errors.InvalidParameterValue("max-connections must be at least 1")
    if c.max_message_size < 1024:
        raise errors.InvalidParameterValue("max-message-size must be at least 1024 bytes")
    if bool(c.tls_cert) != bool(c.tls_key):
        raise errors.InvalidParameterValue("--tls-cert and --tls-key go together")
    if c.require_tls and not c.tls_cert:
        raise errors.InvalidParameterValue("--require-tls needs --tls-cert and --tls-key")
    if c.log_level.lower() not in ("debug", "info", "warning", "error"):
        raise errors.InvalidParameterValue(f"unknown log level {c.log_level!r}")
