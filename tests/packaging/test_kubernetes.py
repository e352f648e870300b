"""The Kubernetes DaemonSet: valid for the Kubernetes API schema, and as unprivileged as stated.

kubernetes-validate (PyPI) carries the API's JSON schemas, so this runs offline; --strict
refuses unknown fields, the typo a hand-written manifest most often has.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml
from required_programs import explain, run
from source_tree import REPO_ROOT

from exporter.cli_args import DEFAULT_PORT

MANIFEST = REPO_ROOT / "packaging" / "kubernetes" / "daemonset.yaml"


def resources() -> dict[str, dict[str, Any]]:
    with MANIFEST.open(encoding="utf-8") as stream:
        return {doc["kind"]: doc for doc in yaml.safe_load_all(stream) if doc}


def pod_spec() -> dict[str, Any]:
    spec: dict[str, Any] = resources()["DaemonSet"]["spec"]["template"]["spec"]
    return spec


def test_manifest_validates_against_the_kubernetes_api_schema() -> None:
    validator = Path(sys.executable).with_name("kubernetes-validate")
    checked = run([validator, "--strict", MANIFEST])
    assert checked.returncode == 0, explain(checked)
    passed = re.findall(r"passed for resource (\S+)", checked.stdout + checked.stderr)
    assert sorted(passed) == ["daemonset/lvs-arp-exporter", "namespace/lvs-arp"], explain(checked)


def test_exporter_reads_the_host_network_namespace_with_no_privilege() -> None:
    spec = pod_spec()
    assert spec["hostNetwork"] is True  # /proc/sys/net and netlink answer per namespace
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False
    [container] = spec["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context.get("privileged", False) is False
    assert context["capabilities"] == {"drop": ["ALL"]}  # NET_RAW only as a comment
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    for mount in container["volumeMounts"]:
        assert mount["readOnly"] is True, mount
    # hostPath type Directory: the kubelet never creates anything on the node.
    assert {v["hostPath"]["type"] for v in spec["volumes"]} == {"Directory"}


def test_role_args_and_scrape_annotations_match_the_exporter() -> None:
    [container] = pod_spec()["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["LVS_ARP_ROLE"] in ("realserver", "director")
    assert "--role=$(LVS_ARP_ROLE)" in container["args"]
    exporter = Path(sys.executable).with_name("lvs-arp-exporter")
    shown = run([exporter, "--help"])
    assert shown.returncode == 0, explain(shown)
    for arg in container["args"]:
        assert arg.split("=")[0] in shown.stdout, arg
    [port] = container["ports"]
    assert port["containerPort"] == DEFAULT_PORT
    annotations = resources()["DaemonSet"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(DEFAULT_PORT)
