"""What an open NetworkPolicy rule is, for the unit tests of the platform's policies and for the e2e run."""

from __future__ import annotations

from typing import Any

# The tenants' DNS rule with the default `deployment.tenant_network.dns`: the cluster's DNS pods only.
DNS_RULE = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}


def open_rules(spec: dict[str, Any], open_ports: set[int] = frozenset()) -> list[str]:
    """Every rule of a NetworkPolicy that reaches wider than a named destination: a rule without peers (any
    address), an empty selector (every pod, every namespace), the whole address space (except on the ports
    platform.yaml opened on purpose), DNS anywhere but the cluster's DNS pods."""
    found = []
    for kind, peers_key in (("egress", "to"), ("ingress", "from")):
        for index, rule in enumerate(spec.get(kind, [])):
            where = f"{kind}[{index}]"
            ports = {p["port"] for p in rule.get("ports", [])}
            if not rule.get(peers_key):
                found.append(f"{where}: no {peers_key}, so any address")
            for peer in rule.get(peers_key) or []:
                for selector in ("podSelector", "namespaceSelector"):
                    if selector in peer and not (peer[selector].get("matchLabels")
                                                 or peer[selector].get("matchExpressions")):
                        found.append(f"{where}: an empty {selector}")
                cidr = peer.get("ipBlock", {}).get("cidr", "")
                if cidr.endswith("/0") and not ports <= open_ports:
                    found.append(f"{where}: {cidr} on ports {sorted(ports)}")
            if kind == "egress" and 53 in ports and rule != DNS_RULE:
                found.append(f"{where}: DNS to {rule.get(peers_key)}")
            if not ports:
                found.append(f"{where}: every port")
    return found
