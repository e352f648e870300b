"""Names the kernel accepts, made with `ip link add` in a real namespace, judged as themselves.

systemd-sysctl is the oracle: the keys sysctl_d_key() spells are applied by the real
systemd-sysctl inside the namespace (net.ipv4.conf is per namespace: the host is never
touched), the kernel's values are read back, and the boot resolver must agree with what
systemd-sysctl did. Then the plugin reads the namespace live with the boot check on: a
node whose every value is in sysctl.d is OK, whatever its names.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings

from checks.boot.sysctl_d import sysctl_d_key
from checks.boot.view import read_boot_view

from .hostile import interface_names
from .node_netns import LAN_INTERFACE, SOUND_KNOBS, Node, sound_realserver
from .processes import PLUGIN

SYSTEMD_SYSCTL = "/lib/systemd/systemd-sysctl"
PEER_PREFIX = "lvsp"
TAKEN = {LAN_INTERFACE, f"{LAN_INTERFACE}p"}
# A namespace per example: a sample, not a search (the in-process properties search).
SAMPLE = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NAMES_OF_NOTE = [b"v=1", b'"q"', b"a*", b"x{a,b}=", b"e\xffth0"]


# What hostile.py's in-process strategy draws but `ip link add` cannot make: the kernel's
# isspace() (lib/ctype.c) counts the byte 0xa0 as space (so no UTF-8 U+00A0 or U+0xA0-ending
# character either), and dev_get_valid_name() takes '%' as dev_alloc_name()'s "%d" pattern.
UNMAKEABLE_BYTES = frozenset(b"\xa0%")


def usable(names: list[str]) -> bool:
    return not any(
        name in TAKEN
        or name.startswith(PEER_PREFIX)
        or UNMAKEABLE_BYTES.intersection(os.fsencode(name))
        for name in names
    )


def knob(node: Node, conf: str, param: str) -> int:
    # A name that is not UTF-8 carries surrogate escapes; subprocess passes its bytes on.
    path = f"/proc/sys/net/ipv4/conf/{conf}/{param}"
    done = subprocess.run(node.argv(["cat", path]), capture_output=True, timeout=30, check=True)
    return int(done.stdout)


def persist(image: Path, lines: list[str]) -> Path:
    path = image / "etc/sysctl.d/90-names.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.fsencode("\n".join(lines) + "\n"))
    return path


@SAMPLE
@given(names=interface_names(min_size=2, max_size=5).filter(usable))
@example(names=[os.fsdecode(raw) for raw in NAMES_OF_NOTE])
def test_systemd_sysctl_and_the_resolver_agree_on_every_name(
    netns_support: None, names: list[str]
) -> None:
    with sound_realserver("names") as node, tempfile.TemporaryDirectory() as scratch:
        for param in SOUND_KNOBS:
            node.write_sysctl("all", param, "0")  # per-interface values decide
        for n, name in enumerate(names):
            node.ip(
                "link", "add", "name", name, "type", "veth", "peer", "name", f"{PEER_PREFIX}{n}"
            )
            for param in SOUND_KNOBS:
                node.write_sysctl(name, param, "0")  # as after a reboot: the kernel's 0
        sound = [f"{sysctl_d_key(n, p)} = {v}" for n in names for p, v in SOUND_KNOBS.items()]
        image = Path(scratch)
        fix_file = persist(image, sound)

        # What boot does with the file: systemd-sysctl, in the node's namespace only.
        subprocess.run(node.argv([SYSTEMD_SYSCTL, str(fix_file)]), timeout=60, check=True)
        applied = {(n, p): knob(node, n, p) for n in names for p in SOUND_KNOBS}
        assert applied == {(n, p): int(v) for n in names for p, v in SOUND_KNOBS.items()}
        view = read_boot_view(names, str(image))
        resolved = {(n, p): view.setting(n, p) for n in names for p in SOUND_KNOBS}
        assert {k: s.value if s else None for k, s in resolved.items()} == applied

        # Every other interface persisted too (plain names): the node then reboots sound.
        others = [
            LAN_INTERFACE,
            f"{LAN_INTERFACE}p",
            *(f"{PEER_PREFIX}{n}" for n in range(len(names))),
        ]
        persist(
            image,
            sound
            + [
                f"{sysctl_d_key(o, p)} = {v}"
                for o in ["default", *others]
                for p, v in SOUND_KNOBS.items()
            ],
        )
        argv = [PLUGIN, "-r", "realserver", f"--sysctl-root={image}"]
        done = subprocess.run(node.argv(argv), capture_output=True, timeout=60, check=False)
    output = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 0, output
    assert output.startswith("LVS_ARP OK - "), output
