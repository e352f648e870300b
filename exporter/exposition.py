"""The registry as Prometheus text format 0.0.4, for HTTP scrapes and node_exporter files.

prometheus_client's generate_latest validates and escapes every name of every sample; at
2,000 interfaces (about 12,000 samples) that alone takes over 100 ms of a scrape. Our
families are few and their names fixed, so this encoder escapes only label values and
HELP text, and writes each line with one format call. Text 0.0.4 is also what client_golang
serves unless OpenMetrics is switched on, and every Prometheus and node_exporter reads it.
"""

from __future__ import annotations

import codecs
import math
from collections.abc import Callable, Iterable

from prometheus_client.core import Metric
from prometheus_client.registry import CollectorRegistry

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Render = Callable[[str | None], tuple[bytes, str]]

# type -> (suffix of the exposed name, the TYPE written): as generate_latest exposes them.
_EXPOSED_AS = {"gauge": ("", "gauge"), "counter": ("_total", "counter"), "info": ("_info", "gauge")}


def renderer(registry: CollectorRegistry) -> Render:
    """render(accept_header) -> (body, content_type), as the HTTP server expects it."""

    def render(accept_header: str | None) -> tuple[bytes, str]:
        return text_format(registry.collect()), CONTENT_TYPE

    return render


def text_format(metrics: Iterable[Metric]) -> bytes:
    lines: list[str] = []
    # The same {interface=...,parameter=...} set recurs in every per-interface family:
    # escaped and joined once per scrape, not once per sample.
    label_text: dict[tuple[tuple[str, str], ...], str] = {}
    for metric in metrics:
        suffix, exposed_type = _EXPOSED_AS[metric.type]  # KeyError: a type we never build
        name = metric.name + suffix
        lines.append(f"# HELP {name} {_escape_help(metric.documentation)}")
        lines.append(f"# TYPE {name} {exposed_type}")
        for sample in metric.samples:
            key = tuple(sample.labels.items())
            labels = label_text.get(key)
            if labels is None:
                labels = label_text[key] = _label_set(key)
            lines.append(f"{sample.name}{labels} {_go_float(sample.value)}")
    lines.append("")
    return "\n".join(lines).encode("utf-8", _NAME_BYTES_AS_ESCAPES)


def _label_set(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    pairs = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels)
    return f"{{{pairs}}}"


def _name_bytes_as_escapes(error: UnicodeError) -> tuple[str, int]:
    r"""Write each byte of a name that is not UTF-8 as `\\xNN` (the backslash escaped).

    The kernel takes any bytes but '/', ':' and white space as an interface name; the
    readers hand one that is not UTF-8 on as surrogate escapes, which UTF-8 cannot carry.
    `\\xNN` reads back as the label value `\xNN`, as the library prints such file names.
    Called only for those characters, so the usual scrape pays nothing for it.
    """
    if not isinstance(error, UnicodeEncodeError):
        raise error
    raw = error.object[error.start : error.end].encode("utf-8", "surrogateescape")
    return "".join(f"\\\\x{byte:02x}" for byte in raw), error.end


_NAME_BYTES_AS_ESCAPES = "lvs_arp.name_bytes_as_escapes"
codecs.register_error(_NAME_BYTES_AS_ESCAPES, _name_bytes_as_escapes)


def _escape_label(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def _escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def _go_float(value: float) -> str:
    if type(value) is int:  # the usual case, asked first: most samples are 0/1 or a knob
        return str(value)
    if isinstance(value, int):  # bool too: True is written 1
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)
