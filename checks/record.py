"""typing.NamedTuple's class syntax for the library's records, without importing typing.

Importing typing costs the plugin 4 ms on every NRPE poll: a third of its whole budget
over `import nagiosplugin`. mypy sees typing.NamedTuple itself; at run time the same class
bodies become collections.namedtuple subclasses, the same kind of class NamedTuple makes.
"""

from __future__ import annotations

import collections

TYPE_CHECKING = False  # mypy treats the name as True, as it does typing.TYPE_CHECKING

if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:

    class _RecordMeta(type):
        def __new__(mcls, name, bases, namespace):
            if not bases:
                return super().__new__(mcls, name, bases, namespace)
            fields = list(namespace.get("__annotations__", {}))
            first = next((i for i, f in enumerate(fields) if f in namespace), len(fields))
            if any(field not in namespace for field in fields[first:]):
                raise TypeError(f"{name}: fields with defaults must come last")
            defaults = [namespace[field] for field in fields[first:]]
            base = collections.namedtuple(
                name, fields, defaults=defaults, module=namespace.get("__module__")
            )
            body = {
                key: value
                for key, value in namespace.items()
                if key not in fields and key != "__annotations__"
            }
            body["__slots__"] = ()
            return type(name, (base,), body)

    class Record(metaclass=_RecordMeta):
        pass


__all__ = ["TYPE_CHECKING", "Record"]
