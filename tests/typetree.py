"""JSON type trees: what the emulator sends, compared path by path with what Mt.Gox sent.

A shape records, at every path, the JSON types seen, the key sets of objects (with their
order) and the union of array elements. The emulator's shape conforms to a capture's when
every object it sends has a key set the capture has (in the same order where the capture kept
Mt.Gox's order), and every value has a type the capture has at that path. An integral number
may stand where the capture has a float: PHP printed 114.0 as 114 too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Shape:
    scalars: set[str] = field(default_factory=set)
    objects: dict[frozenset[str], tuple[list[str], dict[str, Shape]]] = field(default_factory=dict)
    items: Shape | None = None  # union of array elements; None when no array was seen here


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    raise TypeError(type(value))


def shape_of(value: Any, into: Shape | None = None) -> Shape:
    shape = into or Shape()
    if isinstance(value, dict):
        keys = frozenset(value)
        _, children = shape.objects.setdefault(keys, (list(value), {}))
        for k, v in value.items():
            children[k] = shape_of(v, children.get(k))
    elif isinstance(value, list):
        shape.items = shape.items or Shape()
        for v in value:
            shape_of(v, shape.items)
    else:
        shape.scalars.add(_scalar(value))
    return shape


def problems(emulated: Shape, captured: Shape, *, ordered: bool, path: str = "$") -> list[str]:
    out: list[str] = []
    allowed = set(captured.scalars) | ({"int"} if "float" in captured.scalars else set())
    for t in sorted(emulated.scalars - allowed):
        out.append(f"{path}: sends {t}, capture has {sorted(captured.scalars) or 'no scalar'}")
    for keys, (order, children) in emulated.objects.items():
        match = captured.objects.get(keys)
        if match is None:
            near = min(captured.objects, key=lambda k: len(k ^ keys), default=frozenset())
            out.append(f"{path}: object keys differ: extra {sorted(keys - near)}, missing {sorted(near - keys)}")
            continue
        cap_order, cap_children = match
        if ordered and order != cap_order:
            out.append(f"{path}: key order {order} != capture's {cap_order}")
        for k in order:
            out += problems(children[k], cap_children[k], ordered=ordered, path=f"{path}.{k}")
    if emulated.items is not None:
        if captured.items is None:
            out.append(f"{path}: sends an array, capture has none")
        elif captured.items.scalars or captured.items.objects or captured.items.items:
            out += problems(emulated.items, captured.items, ordered=ordered, path=f"{path}[]")
    return out


def conform(emulated: Any, *captured: Any, ordered: bool) -> list[str]:
    """Problems of `emulated` against the union of one or more captures of the same endpoint."""
    union = Shape()
    for doc in captured:
        shape_of(doc, union)
    return problems(shape_of(emulated), union, ordered=ordered)
