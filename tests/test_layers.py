"""The layering docs/architecture.md describes, checked on the imports of every module.

Data flows one way (YAML -> models -> components -> resources -> contract): config models never import
Pulumi, and neither tier imports the other; what both use lives below both (`floe_infra/kube`, the contract).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO


def _imports(path: Path, root: Path) -> set[str]:
    """Every module a file imports, absolute (relative imports resolved against its package under `root`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _violations(folder: str, forbidden: tuple[str, ...], root: Path = REPO) -> list[str]:
    return sorted(
        f"{path.relative_to(root)} imports {name}"
        for path in (root / "floe_infra" / folder).rglob("*.py")
        for name in _imports(path, root)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("pipeline", ("floe_infra.platform",)),
        ("platform", ("floe_infra.pipeline",)),
        ("kube", ("floe_infra.platform", "floe_infra.pipeline")),
        ("config", ("pulumi", "pulumi_kubernetes", "pulumi_aws", "floe_infra.platform", "floe_infra.pipeline")),
    ],
)
def test_a_layer_imports_nothing_from_the_layers_it_must_not_know(folder: str, forbidden: tuple[str, ...]):
    assert _violations(folder, forbidden) == []


def test_the_import_scan_sees_relative_and_aliased_imports(tmp_path: Path):
    # The check itself must be able to fail: imports of the other tier, relative or aliased, are found.
    (tmp_path / "floe_infra" / "pipeline").mkdir(parents=True)
    (tmp_path / "floe_infra" / "pipeline" / "probe.py").write_text(
        "from ..platform import kubernetes\nimport floe_infra.platform.helm as h\n")
    assert _violations("pipeline", ("floe_infra.platform",), root=tmp_path) == [
        "floe_infra/pipeline/probe.py imports floe_infra.platform",
        "floe_infra/pipeline/probe.py imports floe_infra.platform.helm",
        "floe_infra/pipeline/probe.py imports floe_infra.platform.kubernetes",
    ]
