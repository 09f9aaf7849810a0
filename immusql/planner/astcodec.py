"""AST nodes to plain msgpack-able data and back, for expressions kept in the catalog.

Column defaults, CHECK constraints and view queries are stored as their AST, not as SQL
text, so a stored definition never depends on re-parsing with a newer grammar. Each node
becomes [class name, field values...]; tuples of nodes become lists.
"""

from __future__ import annotations

import dataclasses

from ..parser import ast

_CLASSES = {name: cls for name, cls in vars(ast).items()
            if isinstance(cls, type) and dataclasses.is_dataclass(cls)}


def encode_node(node):
    if node is None or isinstance(node, (bool, int, float, str, bytes)):
        return node
    if isinstance(node, tuple):
        return {"t": [encode_node(x) for x in node]}
    if dataclasses.is_dataclass(node):
        return {"n": type(node).__name__,
                "f": [encode_node(getattr(node, f.name)) for f in dataclasses.fields(node)]}
    raise TypeError(f"cannot store {type(node).__name__} in the catalog")


def decode_node(data):
    if data is None or isinstance(data, (bool, int, float, str, bytes)):
        return data
    if "t" in data:
        return tuple(decode_node(x) for x in data["t"])
    cls = _CLASSES[data["n"]]
    values = [decode_node(x) for x in data["f"]]
    return cls(*values)
