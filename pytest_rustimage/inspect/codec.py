"""Frozen fact classes to JSON data and back, checked against their type hints.

The facts kept in the user's cache folder (:mod:`pytest_rustimage.session.binary_store`) are the
frozen dataclasses of :mod:`pytest_rustimage.inspect`: strings, numbers, tuples, mappings and other
such dataclasses. :func:`to_data` turns one into plain JSON data; :func:`from_data` rebuilds it from
such data, checking every value against the field's declared type, so that a file of another shape
(damaged, written by another version) is a :class:`CodecError` and never half-trusted.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")
_MAPPINGS = (dict, collections.abc.Mapping)
_SEQUENCES = (tuple,)


class CodecError(ValueError):
    """Data that does not have the shape of the class it should rebuild."""


def to_data(value: Any) -> Any:
    """``value`` as JSON data: a dataclass as an object of its fields, a tuple as a list, a mapping as
    an object (its keys must be strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, collections.abc.Mapping):
        if not all(isinstance(key, str) for key in value):
            raise CodecError("only mappings with string keys can be kept")
        return {key: to_data(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [to_data(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise CodecError(f"cannot keep a {type(value).__name__}")


def from_data(kind: type[T], data: Any) -> T:
    """An instance of the dataclass ``kind`` rebuilt from :func:`to_data`'s output; :class:`CodecError`
    when ``data`` does not fit its fields exactly (a missing or unknown field, a value of another type)."""
    value: T = _build(kind, data, kind.__name__)
    return value


def _build(kind: Any, data: Any, where: str) -> Any:
    if kind is Any:
        return data
    origin = get_origin(kind)
    if origin is typing.Literal:
        if data not in get_args(kind) or isinstance(data, bool) != any(isinstance(a, bool) for a in get_args(kind)):
            raise CodecError(f"{where}: {data!r} is none of {get_args(kind)}")
        return data
    if origin is Union or origin is types.UnionType:
        return _union(get_args(kind), data, where)
    if origin in _SEQUENCES:
        return _tuple(get_args(kind), data, where)
    if origin in _MAPPINGS:
        if not isinstance(data, dict):
            raise CodecError(f"{where}: not an object")
        _, item = get_args(kind)
        return {_build(str, key, where): _build(item, value, f"{where}[{key!r}]") for key, value in data.items()}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _dataclass(kind, data, where)
    if kind in (str, int, float, bool):
        # bool is an int in Python: keep them apart, as JSON does
        if not isinstance(data, kind) or (kind is not bool and isinstance(data, bool)):
            raise CodecError(f"{where}: {data!r} is not a {kind.__name__}")
        return data
    if kind is type(None):
        if data is not None:
            raise CodecError(f"{where}: {data!r} is not null")
        return None
    raise CodecError(f"{where}: cannot rebuild a {kind!r}")


def _union(options: tuple[Any, ...], data: Any, where: str) -> Any:
    if data is None:
        if type(None) in options:
            return None
        raise CodecError(f"{where}: null where a value is needed")
    for option in options:
        if option is type(None):
            continue
        try:
            return _build(option, data, where)
        except CodecError:
            continue
    raise CodecError(f"{where}: {data!r} fits none of {options}")


def _tuple(args: tuple[Any, ...], data: Any, where: str) -> tuple[Any, ...]:
    if not isinstance(data, list):
        raise CodecError(f"{where}: not a list")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_build(args[0], item, f"{where}[{i}]") for i, item in enumerate(data))
    if len(args) != len(data):
        raise CodecError(f"{where}: {len(data)} items where {len(args)} are needed")
    return tuple(_build(arg, item, f"{where}[{i}]") for i, (arg, item) in enumerate(zip(args, data, strict=True)))


def _dataclass(kind: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise CodecError(f"{where}: not an object")
    hints = get_type_hints(kind)
    fields = {f.name for f in dataclasses.fields(kind) if f.init}
    if set(data) != fields:
        raise CodecError(f"{where}: fields {sorted(data)} where {sorted(fields)} are needed")
    return kind(**{name: _build(hints[name], data[name], f"{where}.{name}") for name in fields})
