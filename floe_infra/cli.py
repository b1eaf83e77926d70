"""The `floe-infra` command line: a thin layer over the library; the only place that prints and exits."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from floe_infra import __version__
from floe_infra.charts import CHART_CACHE
from floe_infra.errors import ConfigError, FloeError

EXIT_OK = 0
EXIT_INVALID = 2
EXIT_GUARDRAIL = 3


def _validate(args: argparse.Namespace) -> int:
    from floe_infra.config.loader import load_configuration
    from floe_infra.config.summary import pipeline_summary, platform_summary

    platform, pipelines = load_configuration(args.platform, args.pipeline)
    for line in platform_summary(platform):
        print(line)
    for loaded in pipelines:
        for line in pipeline_summary(loaded):
            print(line)
    print("valid")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from floe_infra.config.schema import write_schemas

    for path in write_schemas(args.out):
        print(f"wrote {path}")
    return EXIT_OK


def _charts_fetch(args: argparse.Namespace) -> int:
    from floe_infra.charts import fetch_chart
    from floe_infra.versions import LOCAL_COPY_CHARTS

    for chart in LOCAL_COPY_CHARTS:
        path = fetch_chart(chart, args.version or chart.version, args.out)
        print(f"{chart.name} {args.version or chart.version} -> {path}")
    return EXIT_OK


def _tables(args: argparse.Namespace) -> int:
    from floe_infra.tables_cli import run_tables

    return run_tables(args)


def _tenant_keygen(args: argparse.Namespace) -> int:
    from floe_infra.polaris.sealing import generate_keypair

    public, private = generate_keypair()
    path: Path = args.private_key_file
    if path.exists():
        print(f"error: {path} exists; refusing to overwrite a private key", file=sys.stderr)
        return EXIT_INVALID
    path.touch(mode=0o600)
    path.write_text(private + "\n", encoding="ascii")
    print(f"public key (platform team: deployment.tenants.<pipeline>.public_key in platform.yaml):\n  {public}")
    print(f"private key written to {path} (mode 600). Data team, in the pipeline project:\n"
          f"  pulumi config set --secret floe:tenantKey \"$(cat {path})\" && rm {path}")
    return EXIT_OK


def _new_pipeline(args: argparse.Namespace) -> int:
    from floe_infra.pipeline.scaffold import scaffold_pipeline

    bad = [s for s in args.stack if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", s)]
    if bad:
        print(f"error: {', '.join(bad)}: a stack name uses letters, digits, '_', '.' and '-'", file=sys.stderr)
        return EXIT_INVALID
    result = scaffold_pipeline(args.directory, args.stack or ["dev"], args.platform_stack)
    for path in result.written:
        print(f"wrote {path}")
    for path in result.kept:
        print(f"kept  {path} (exists)")
    print("next: set floe:image and floe:tenantKey per stack (see the comments in each Pulumi.<stack>.yaml), "
          "then `pulumi preview`")
    return EXIT_OK


def _preview(args: argparse.Namespace) -> int:
    import json

    import pulumi

    from floe_infra.guardrails import enforcement_overrides
    from floe_infra.preview.offline import offline_preview
    from floe_infra.preview.report import dot_graph, json_document, text_report

    if not args.offline:
        print("error: only --offline previews run here; for a real one use `pulumi preview`", file=sys.stderr)
        return EXIT_INVALID
    policy = args.policy_config or args.project_dir / "policy" / "config" / f"{args.stack}.json"
    overrides = {}
    if policy.exists():
        try:
            overrides = enforcement_overrides(json.loads(policy.read_text(encoding="utf-8")))
        except (ValueError, json.JSONDecodeError) as exc:
            print(f"error: {policy}: {exc}", file=sys.stderr)
            return EXIT_INVALID
    try:
        previews = offline_preview(args.project_dir, args.stack, args.pipeline, overrides)
    except pulumi.RunError as exc:
        # The program's own message (located configuration problems and the like).
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    for line in text_report(previews):
        print(line)
    if args.json:
        args.json.write_text(json_document(previews), encoding="utf-8")
        print(f"wrote {args.json}")
    if args.dot:
        args.dot.write_text(dot_graph(previews), encoding="utf-8")
        print(f"wrote {args.dot}")
    blocked = [p.label for p in previews if p.blocked]
    if blocked:
        print(f"mandatory guardrails fail on {', '.join(blocked)}", file=sys.stderr)
        return EXIT_GUARDRAIL
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from floe_infra.preview.diff import load_document, markdown_diff

    print(markdown_diff(load_document(args.base), load_document(args.head)), end="")
    return EXIT_OK


def _ci_changes(args: argparse.Namespace) -> int:
    from floe_infra.ci import affected, as_github_outputs, changed_files

    changed = None if args.all else changed_files(args.root, args.base)
    changes = affected(args.root, changed, args.stack or None)
    for line in as_github_outputs(changes):
        print(line)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="floe-infra", description="The floe lakehouse platform as Pulumi code.")
    parser.add_argument("--version", action="version", version=f"floe-infra {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    validate = sub.add_parser("validate", help="validate platform.yaml and floe.yaml files")
    validate.add_argument("--platform", type=Path, required=True, help="the platform.yaml")
    validate.add_argument("--pipeline", type=Path, action="append", default=[], help="a floe.yaml (repeatable)")
    validate.set_defaults(handler=_validate)

    schema = sub.add_parser("schema", help="write JSON Schemas of both files for editors")
    schema.add_argument("--out", type=Path, required=True, help="directory to write into")
    schema.set_defaults(handler=_schema)
    tables = sub.add_parser("tables", help="plan or apply floe.yaml's Iceberg tables")
    tables.add_argument("action", choices=["plan", "apply"], help="plan only, or plan and apply")
    tables.add_argument("--platform", type=Path, required=True, help="the platform.yaml")
    tables.add_argument("--pipeline", type=Path, required=True, help="the floe.yaml")
    where = tables.add_mutually_exclusive_group()
    where.add_argument("--catalog-uri", help="Iceberg REST catalog URI (credential from $FLOE_CATALOG_CREDENTIAL)")
    where.add_argument("--embedded", action="store_true", help="use the SQLite catalog under ./.floe/")
    tables.add_argument("--json", action="store_true", help="print the plans as JSON (for machines)")
    tables.set_defaults(handler=_tables)

    tenant = sub.add_parser("tenant", help="tenant onboarding helpers")
    tenant_sub = tenant.add_subparsers(dest="tenant_command", required=True)
    keygen = tenant_sub.add_parser("keygen", help="a key pair for receiving the tenant's catalog credentials")
    keygen.add_argument("--private-key-file", type=Path, required=True, help="where to write the private key")
    keygen.set_defaults(handler=_tenant_keygen)

    new = sub.add_parser("new-pipeline", help="scaffold the Pulumi project of a floe.yaml")
    new.add_argument("directory", type=Path, help="the directory holding floe.yaml")
    new.add_argument("--stack", action="append", default=[], help="a stack to create (repeatable; default dev)")
    new.add_argument("--platform-stack", help="org/floe-platform/stack to reference (default: same stack name)")
    new.set_defaults(handler=_new_pipeline)

    preview = sub.add_parser("preview", help="preview the platform and pipeline stacks without credentials")
    preview.add_argument("--offline", action="store_true", required=True,
                         help="run the programs under Pulumi's mock runtime (the only mode)")
    preview.add_argument("--stack", required=True, help="stack name, e.g. local, dev, prod")
    preview.add_argument("--pipeline", type=Path, action="append", default=[],
                         help="a floe.yaml whose Pulumi project to preview on the platform (repeatable)")
    preview.add_argument("--project-dir", type=Path, default=Path("."), help="the platform project (default .)")
    preview.add_argument("--policy-config", type=Path,
                         help="guardrail enforcement overrides (default policy/config/<stack>.json)")
    preview.add_argument("--json", type=Path, help="write every resource as stable JSON")
    preview.add_argument("--dot", type=Path, help="write the resource graph as Graphviz DOT")
    preview.set_defaults(handler=_preview)

    diff = sub.add_parser("diff", help="compare two offline preview JSON files as Markdown")
    diff.add_argument("base", type=Path, help="the preview of the base branch")
    diff.add_argument("head", type=Path, help="the preview of the pull request")
    diff.set_defaults(handler=_diff)

    ci = sub.add_parser("ci", help="helpers for the CI workflows")
    ci_sub = ci.add_subparsers(dest="ci_command", required=True)
    changes = ci_sub.add_parser("changes", help="the platform stacks and pipeline projects a change touches")
    since = changes.add_mutually_exclusive_group(required=True)
    since.add_argument("--base", help="git ref of the base (e.g. origin/main)")
    since.add_argument("--all", action="store_true", help="every platform stack and pipeline project")
    changes.add_argument("--stack", action="append", default=[], help="limit to these platform stacks (repeatable)")
    changes.add_argument("--root", type=Path, default=Path("."), help="repository root (default .)")
    changes.set_defaults(handler=_ci_changes)

    charts = sub.add_parser("charts", help="manage local chart copies")
    charts_sub = charts.add_subparsers(dest="charts_command", required=True)
    fetch = charts_sub.add_parser("fetch", help="download the Dagster charts without their broken schemas")
    fetch.add_argument("--out", type=Path, default=Path(CHART_CACHE), help=f"cache directory (default {CHART_CACHE})")
    fetch.add_argument("--version", help="chart version, when platform.yaml overrides the pinned one")
    fetch.set_defaults(handler=_charts_fetch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 invalid input or expected failure)."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return EXIT_INVALID
    except FloeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
