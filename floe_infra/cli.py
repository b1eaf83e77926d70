"""The `floe-infra` command line: a thin layer over the library; the only place that prints and exits.

Every command is a subcommand (`floe-infra tables plan`, `floe-infra ci changes`), the same concept
has the same option everywhere (`--platform`, `--pipeline`, `--contract`, `--stack`, `--project-dir`,
`--json`), and every command exits with one of the codes of `floe_infra.errors.ExitCode`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from floe_infra import __version__
from floe_infra.errors import ConfigError, ExitCode, FloeError, Problem

EXIT_CODE_MEANINGS = {
    ExitCode.OK: "success",
    ExitCode.RUNTIME: "runtime failure: a catalog, git or the file system failed (retrying may help)",
    ExitCode.INVALID: "invalid input: a usage error, or a file or value that does not validate",
    ExitCode.GUARDRAIL: "a mandatory guardrail fails",
    ExitCode.REFUSED: "a change was refused or needs an explicit opt-in (a breaking table change, a risky diff)",
}
OK, RUNTIME, INVALID, GUARDRAIL, REFUSED = ExitCode


def exit_codes_help(codes: dict[ExitCode, str] | set[ExitCode]) -> str:
    """The exit codes section of a command's help: only the codes it can return, with what each means there."""
    meanings = codes if isinstance(codes, dict) else {code: EXIT_CODE_MEANINGS[code] for code in codes}
    return "exit codes:\n" + "".join(f"  {code.value}  {meanings[code]}\n" for code in sorted(meanings))


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True))


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {"file": str(problem.file), "line": problem.line, "column": problem.column, "path": problem.path,
            "message": problem.message}


# --- validate ------------------------------------------------------------------------------------


def _validate(args: argparse.Namespace) -> int:
    from floe_infra.config.loader import load_configuration, load_pipeline
    from floe_infra.config.summary import pipeline_summary, platform_summary
    from floe_infra.contract import load_contract_file
    from floe_infra.pipeline.binding import bind_files

    if args.platform is None and not args.pipeline:
        raise FloeError("nothing to validate: give --platform, --pipeline, or both")
    if args.contract is not None and not args.pipeline:
        raise FloeError("--contract checks floe.yaml files against a platform's contract: give --pipeline too")
    lines: list[str] = []
    warnings: list[Problem] = []
    if args.platform is not None:
        platform, pipelines = load_configuration(args.platform, args.pipeline)
        lines += platform_summary(platform)
        warnings += platform.warnings
        checked = "against the platform"
    elif args.contract is not None:
        contract = load_contract_file(args.contract)
        pipelines = [loaded for loaded, _ in bind_files(args.pipeline, contract)]
        checked = f"against the contract of platform '{contract.platform}' ({contract.environment})"
    else:
        problems, pipelines = [], []
        for file in args.pipeline:
            try:
                pipelines.append(load_pipeline(file))
            except ConfigError as exc:
                problems += exc.problems
        if problems:
            raise ConfigError(problems)
        checked = "on its own (add --contract or --platform to check it against a platform)"
    for loaded in pipelines:
        lines += pipeline_summary(loaded)
    if args.json:
        _print_json({"valid": True, "checked": checked, "problems": [],
                     "warnings": [_problem_json(w) for w in warnings],
                     "files": [str(f) for f in ([args.platform] if args.platform else []) + args.pipeline]})
    else:
        for line in lines:
            print(line)
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"valid: checked {checked}")
    return ExitCode.OK


# --- contract, schema, charts, tenant ----------------------------------------------------------------


def _contract_export(args: argparse.Namespace) -> int:
    from floe_infra.preview.offline import export_contract

    text = json.dumps(export_contract(args.platform), indent=2, sort_keys=True) + "\n"
    if args.out is None:
        print(text, end="")
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return ExitCode.OK


def _schema(args: argparse.Namespace) -> int:
    from floe_infra.config.schema import write_schemas

    for path in write_schemas(args.out):
        print(f"wrote {path}")
    return ExitCode.OK


def _charts_fetch(args: argparse.Namespace) -> int:
    from floe_infra.charts import fetch_chart
    from floe_infra.versions import LOCAL_COPY_CHARTS

    for chart in LOCAL_COPY_CHARTS:
        path = fetch_chart(chart, args.version or chart.version, args.out)
        print(f"{chart.name} {args.version or chart.version} -> {path}")
    return ExitCode.OK


def _tenant_keygen(args: argparse.Namespace) -> int:
    from floe_infra.polaris.sealing import generate_keypair

    path: Path = args.private_key_file
    if path.exists():
        raise FloeError(f"{path} exists; refusing to overwrite a private key")
    public, private = generate_keypair()
    path.touch(mode=0o600)
    path.write_text(private + "\n", encoding="ascii")
    print(f"public key (platform team: deployment.tenants.<pipeline>.public_key in platform.yaml):\n  {public}")
    print(f"private key written to {path} (mode 600). Data team, in the pipeline project:\n"
          f"  pulumi config set --secret floe:tenantKey \"$(cat {path})\" && rm {path}")
    return ExitCode.OK


# --- tables ----------------------------------------------------------------------------------------


def _maintenance(args: argparse.Namespace) -> int:
    from floe_infra.maintenance_cli import run_maintenance

    return run_maintenance(args)


def _tables(args: argparse.Namespace) -> int:
    from floe_infra.tables_cli import run_tables

    if (args.platform is None) == (args.contract is None):
        raise FloeError("give the platform as --platform platform.yaml or --contract contract.json (one of them)")
    status = ExitCode.OK
    for file in args.pipeline:
        status = max(status, run_tables(argparse.Namespace(**{**vars(args), "pipeline": file})))
    return status


# --- new-pipeline ----------------------------------------------------------------------------------


def _new_pipeline(args: argparse.Namespace) -> int:
    from floe_infra.pipeline.scaffold import next_steps, scaffold_pipeline

    result = scaffold_pipeline(args.directory, args.stack or ["dev"], platform_stack=args.platform_stack,
                               name=args.name, requirement=args.floe_infra)
    for path in result.written:
        print(f"wrote   {path}")
    for path in result.updated:
        print(f"updated {path}")
    for path in result.kept:
        print(f"kept    {path} (exists)")
    print("\nnext steps:")
    for number, step in enumerate(next_steps(result), 1):
        print(f"  {number}. {step}")
    return ExitCode.OK


# --- preview and diff ------------------------------------------------------------------------------


def _preview(args: argparse.Namespace) -> int:
    import pulumi

    from floe_infra import console
    from floe_infra.contract import read_contract_json
    from floe_infra.guardrails import enforcement_overrides
    from floe_infra.preview.offline import offline_preview
    from floe_infra.preview.report import dot_graph, json_document, text_report

    if args.contract is not None and not args.pipeline:
        raise FloeError("--contract previews pipelines on a platform's contract: give --pipeline too")
    if args.policy_config is not None and not args.policy_config.is_file():
        raise FloeError(f"--policy-config {args.policy_config} does not exist: give the guardrails' configuration "
                        "of the stack (policy/config/<stack>.json, docs/ci.md), or leave the option out to read "
                        "that file")
    policy = args.policy_config or args.project_dir / "policy" / "config" / f"{args.stack}.json"
    overrides = {}
    if policy.exists():
        try:
            overrides = enforcement_overrides(json.loads(policy.read_text(encoding="utf-8")))
        except (ValueError, json.JSONDecodeError) as exc:
            raise FloeError(f"{policy}: {exc}") from None
    contract = None if args.contract is None else read_contract_json(args.contract)
    try:
        with console.progress("previewing") as advance:
            previews = offline_preview(None if contract else args.project_dir, args.stack, args.pipeline, overrides,
                                       contract=contract, assumed_secrets=args.assume_secret, progress=advance)
    except pulumi.RunError as exc:
        # The program's own message (located configuration problems and the like).
        raise FloeError(str(exc)) from None
    document = json_document(previews)
    if args.json == "-":
        print(document, end="")
    else:
        for line in text_report(previews):
            print(line)
        for key in args.assume_secret:
            print(f"assumed: {key} is set as a secret before `pulumi preview` runs (not in the stack files)")
    for path, text in ((args.json, document), (args.dot, dot_graph(previews) if args.dot else "")):
        if path and path != "-":
            Path(path).write_text(text, encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)
    blocked = [p.label for p in previews if p.blocked]
    if blocked:
        print(f"mandatory guardrails fail on {', '.join(blocked)}", file=sys.stderr)
        return ExitCode.GUARDRAIL
    return ExitCode.OK


def _diff(args: argparse.Namespace) -> int:
    from floe_infra.preview.diff import compare, load_document, markdown

    result = compare(load_document(args.base), load_document(args.head))
    print(markdown(result), end="")
    if result.guardrails_fail:
        return ExitCode.GUARDRAIL
    if args.exit_code and result.risks:
        return ExitCode.REFUSED
    return ExitCode.OK


# --- ci --------------------------------------------------------------------------------------------


def _print_outputs(values: dict[str, Any], as_json: bool) -> None:
    from floe_infra.ci import as_github_outputs

    if as_json:
        _print_json(values)
    else:
        for line in as_github_outputs(values):
            print(line)


def _ci_changes(args: argparse.Namespace) -> int:
    from floe_infra.ci import affected, as_json, changed_files, deploy_order

    stacks = deploy_order(args.project_dir) if args.deployed else args.stack or None
    changed = None if args.all else changed_files(args.project_dir, args.base)
    _print_outputs(as_json(affected(args.project_dir, changed, stacks)), args.json)
    return ExitCode.OK


def _ci_environments(args: argparse.Namespace) -> int:
    from floe_infra.ci import deploy_order

    _print_outputs({"stacks": deploy_order(args.project_dir)}, args.json)
    return ExitCode.OK


def _ci_gate(args: argparse.Namespace) -> int:
    from floe_infra.preview.gate import judge, parse_labels, read_side, verdict_markdown

    verdict = judge(read_side(args.base), read_side(args.head), parse_labels(args.labels))
    print(verdict_markdown(verdict), end="")
    return verdict.exit_code


# --- new-environment -------------------------------------------------------------------------------


def _new_environment(args: argparse.Namespace) -> int:
    from floe_infra.environments import new_environment, next_steps

    result = new_environment(args.project_dir, args.name, args.platform, args.after)
    for path in result.written:
        print(f"wrote   {path}")
    for path in result.updated:
        print(f"updated {path} (deployed after {result.name} now)")
    for path in result.kept:
        print(f"kept    {path} (exists)")
    print("\nnext steps:")
    for number, step in enumerate(next_steps(result, args.project_dir), 1):
        print(f"  {number}. {step}")
    return ExitCode.OK


# --- migrate ---------------------------------------------------------------------------------------


def _migrate_passwords(args: argparse.Namespace) -> int:
    from floe_infra.migrate import PulumiCli, migrate_passwords

    migrate_passwords(PulumiCli(args.project_dir, args.stack, args.config_file),
                      lambda step: print(f"- {step}", flush=True))
    return ExitCode.OK


# --- the parser ------------------------------------------------------------------------------------


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Help keeps the epilog's layout (the exit codes table)."""


def _add_platform(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument("--platform", type=Path, required=required, metavar="PLATFORM_YAML",
                        help="the platform team's platform.yaml")


def _add_contract(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--contract", type=Path, metavar="CONTRACT_JSON",
                        help="the platform's contract instead of platform.yaml: `pulumi stack output contract "
                             "--json` of the platform stack, or `floe-infra contract export`")


def _add_pipelines(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument("--pipeline", type=Path, action="append", default=[], required=required,
                        metavar="FLOE_YAML", help="a data team's floe.yaml (repeatable)")


def _add_json(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON (for machines)")


def _subcommand(sub: Any, name: str, help_text: str, handler: Callable[[argparse.Namespace], int],
                codes: dict[ExitCode, str] | set[ExitCode], **kwargs: Any) -> argparse.ArgumentParser:
    """A command, its help ending with the exit codes it can return (`codes`, with their meanings there)."""
    parser = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                            epilog=exit_codes_help(codes), formatter_class=_Formatter, **kwargs)
    parser.set_defaults(handler=handler)
    return parser


def _group(sub: Any, name: str, help_text: str, codes: set[ExitCode]) -> Any:
    """A command made of subcommands (their exit codes together: `codes`); alone, it prints its help."""
    parser = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                            epilog=exit_codes_help(codes), formatter_class=_Formatter)
    parser.set_defaults(handler=None, help_of=parser)
    return parser.add_subparsers(title="commands", metavar="COMMAND")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from floe_infra.charts import CHART_CACHE
    from floe_infra.ci import FIRST, RISK_LABEL

    parser = argparse.ArgumentParser(prog="floe-infra", description="The floe lakehouse platform as Pulumi code.",
                                     epilog=exit_codes_help(set(ExitCode)), formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"floe-infra {__version__}")
    parser.set_defaults(handler=None, help_of=parser)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    validate = _subcommand(sub, "validate", "validate floe.yaml files on their own, against a platform's contract, "
                           "or together with platform.yaml", _validate, {OK, INVALID})
    where = validate.add_mutually_exclusive_group()
    _add_platform(where)
    _add_contract(where)
    _add_pipelines(validate)
    _add_json(validate, "the result")

    contract = _group(sub, "contract", "the platform contract pipelines are built on", {OK, INVALID})
    export = _subcommand(contract, "export", "print the contract a platform.yaml's stack exports, for data teams",
                         _contract_export, {OK, INVALID})
    _add_platform(export, required=True)
    export.add_argument("--out", type=Path, help="write it to this file instead of stdout")

    schema = _subcommand(sub, "schema", "write JSON Schemas of both files for editors", _schema, {OK, INVALID})
    schema.add_argument("--out", type=Path, default=Path("schemas"), help="directory to write into (default schemas)")

    table_codes = {OK: EXIT_CODE_MEANINGS[OK], RUNTIME: "the catalog failed (unreachable, timeout, throttled, ...): "
                   "the message names it; a rerun converges", INVALID: EXIT_CODE_MEANINGS[INVALID],
                   REFUSED: "a table's change is refused (the reasons name floe.yaml's line); the others are planned "
                   "or applied"}
    tables = _group(sub, "tables", "plan or apply floe.yaml's Iceberg tables", set(table_codes))
    for action, text in (("plan", "show what would change in the catalog, changing nothing"),
                         ("apply", "plan, then create and evolve the tables; refused changes are not applied")):
        command = _subcommand(tables, action, text, _tables, table_codes)
        command.set_defaults(action=action)
        _add_pipelines(command, required=True)
        given = command.add_mutually_exclusive_group()
        _add_platform(given)
        _add_contract(given)
        catalog = command.add_mutually_exclusive_group()
        catalog.add_argument("--catalog-uri", help="Iceberg REST catalog URI (default: the platform's, as "
                             "`pulumi up` reaches it); credential from $FLOE_CATALOG_CREDENTIAL")
        catalog.add_argument("--embedded", action="store_true", help="use the SQLite catalog under ./.floe/")
        _add_json(command, "the plans")

    maintenance_codes = {OK: EXIT_CODE_MEANINGS[OK], RUNTIME: "a table or the catalog failed (the report names "
                         "which); a rerun resumes", INVALID: EXIT_CODE_MEANINGS[INVALID]}
    maintenance = _group(sub, "maintenance", "apply a layer's retention to its Iceberg tables", set(maintenance_codes))
    run = _subcommand(maintenance, "run", "expire old snapshots, delete rows past the retention where a table "
                      "asks, and remove files nothing references, in every table of one layer", _maintenance,
                      maintenance_codes)
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--plan", type=Path, metavar="PLAN_JSON",
                        help="the plan the platform's maintenance job runs (its ConfigMap)")
    _add_platform(source)
    run.add_argument("--layer", help="with --platform: the layer to maintain")
    run.add_argument("--catalog-uri", help="Iceberg REST catalog URI (default: the plan's, or with --platform the "
                     "platform's, as `pulumi up` reaches it); credential from $FLOE_CATALOG_CREDENTIAL")
    run.add_argument("--s3-endpoint", metavar="URL", help="S3-compatible endpoint to reach the layer's bucket "
                     "at (default: the plan's; AWS S3 when it has none)")
    run.add_argument("--dry-run", action="store_true", help="report what would be expired and deleted, change "
                     "nothing")
    _add_json(run, "what was done")

    tenant = _group(sub, "tenant", "tenant onboarding helpers", {OK, INVALID})
    keygen = _subcommand(tenant, "keygen", "make a key pair for receiving a pipeline's catalog credentials",
                         _tenant_keygen, {OK, INVALID})
    keygen.add_argument("--private-key-file", type=Path, required=True, help="where to write the private key")

    new = _subcommand(sub, "new-pipeline", "start a pipeline project: floe.yaml (when missing), Pulumi project, "
                      "requirements and .gitignore", _new_pipeline, {OK, INVALID})
    new.add_argument("directory", type=Path, help="the pipeline's directory (created when missing)")
    new.add_argument("--name", help="pipeline name for a new floe.yaml (default: the directory's name)")
    new.add_argument("--stack", action="append", default=[], help="a stack to create (repeatable; default dev)")
    new.add_argument("--platform-stack", help="org/floe-platform/stack to reference (default: same stack name)")
    new.add_argument("--floe-infra", metavar="REQUIREMENT",
                     help="how the project installs floe-infra, e.g. 'floe-infra @ git+https://github.com/acme/"
                          "floe-infra@v0.1.0' (default: where this floe-infra was installed from)")

    environment = _subcommand(sub, "new-environment", "add an environment: the stack files of the platform and of "
                              "every pipeline project, and its guardrails' configuration, deployed by CI after "
                              "another", _new_environment, {OK, INVALID})
    environment.add_argument("name", help="the environment's stack name, e.g. staging")
    _add_platform(environment, required=True)
    environment.add_argument("--after", required=True, metavar="STACK",
                             help=f"the stack CI deploys it after (`{FIRST}`: first, on every merge to main); the "
                                  "stacks deployed after that one so far follow the new one")
    environment.add_argument("--project-dir", type=Path, default=Path("."),
                             help="the platform project, at the repository's root (default .)")

    preview = _subcommand(sub, "preview", "preview the platform and pipeline stacks offline (Pulumi's mock "
                          "runtime, no credentials); a real preview is `pulumi preview`", _preview,
                          {OK, INVALID, GUARDRAIL})
    preview.add_argument("--offline", action="store_true", help="accepted for clarity: the only mode here")
    preview.add_argument("--stack", required=True, help="stack name, e.g. local, dev, prod")
    _add_pipelines(preview)
    _add_contract(preview)
    preview.add_argument("--project-dir", type=Path, default=Path("."), help="the platform project (default .)")
    preview.add_argument("--policy-config", type=Path,
                         help="guardrail enforcement overrides (default policy/config/<stack>.json; every rule "
                              "mandatory when that file does not exist)")
    preview.add_argument("--assume-secret", action="append", default=[], metavar="KEY",
                         help="a secret config key CI sets before previewing, absent from the stack files "
                              "(e.g. floe:tenantKey; repeatable; the report lists each)")
    preview.add_argument("--json", nargs="?", const="-", metavar="FILE",
                         help="write every resource as stable JSON to FILE (stdout without FILE)")
    preview.add_argument("--dot", type=Path, metavar="FILE", help="write the resource graph as Graphviz DOT")

    diff = _subcommand(sub, "diff", "compare two offline preview JSON files as Markdown (exit 3 when head fails "
                       "a mandatory guardrail)", _diff,
                       {OK: EXIT_CODE_MEANINGS[OK], INVALID: EXIT_CODE_MEANINGS[INVALID],
                        GUARDRAIL: "a mandatory guardrail fails on head",
                        REFUSED: "with --exit-code: the diff holds a risky change"})
    diff.add_argument("base", type=Path, help="the preview of the base branch")
    diff.add_argument("head", type=Path, help="the preview of the pull request")
    diff.add_argument("--exit-code", action="store_true",
                      help="exit 4 when the diff holds a risky change (a stateful resource deleted or replaced, a "
                           "bucket renamed, a catalog location moved, a table dropped)")

    gate_codes = {OK: "head breaks nothing base passes (risky changes accepted, if any)",
                  RUNTIME: "a stack's preview could not run on head (or head could not be installed)",
                  INVALID: "a stack's preview fails on head and not on base (a file that does not validate, a "
                           "program that stops); or the results or labels are unreadable",
                  GUARDRAIL: "a mandatory guardrail fails on head and not on base",
                  REFUSED: f"a risky change, and the pull request has no label {RISK_LABEL}"}
    ci = _group(sub, "ci", "helpers for the CI workflows", set(ExitCode))
    changes = _subcommand(ci, "changes", "list the platform stacks and pipeline projects a change touches",
                          _ci_changes, {OK, RUNTIME, INVALID})
    since = changes.add_mutually_exclusive_group(required=True)
    since.add_argument("--base", help="git ref of the base (e.g. origin/main)")
    since.add_argument("--all", action="store_true", help="every platform stack and pipeline project")
    which = changes.add_mutually_exclusive_group()
    which.add_argument("--stack", action="append", default=[], help="limit to these stacks (repeatable)")
    which.add_argument("--deployed", action="store_true", help="limit to the stacks CI deploys (`ci environments`)")
    changes.add_argument("--project-dir", type=Path, default=Path("."),
                         help="the platform project, at the repository's root (default .)")
    _add_json(changes, "the stacks (default: key=value lines for $GITHUB_OUTPUT)")
    environments = _subcommand(ci, "environments", "list the platform stacks CI deploys, in the order it deploys "
                               "them (floe:deployAfter of their stack files)", _ci_environments, {OK, INVALID})
    environments.add_argument("--project-dir", type=Path, default=Path("."),
                              help="the platform project, at the repository's root (default .)")
    _add_json(environments, "the stacks (default: a key=value line for $GITHUB_OUTPUT)")
    gate = _subcommand(ci, "gate", "judge a pull request from the offline previews of its base and head "
                       "(.github/scripts/offline-check.sh): Markdown for the PR comment, and whether it may merge",
                       _ci_gate, gate_codes)
    gate.add_argument("base", type=Path, help="the results of the base side (one <stack>.status, .json, .err each)")
    gate.add_argument("head", type=Path, help="the results of the head side")
    gate.add_argument("--labels", default="[]", metavar="JSON",
                      help=f"the pull request's labels as a JSON list; {RISK_LABEL} accepts its risky changes")

    migrate = _group(sub, "migrate", "move a stack created by an earlier floe-infra release forward",
                     {OK, RUNTIME, INVALID, REFUSED})
    passwords = _subcommand(migrate, "passwords", "adopt floe-infra 0.1's generated passwords into pulumi-random "
                            "RandomPasswords, writing no Secret (docs/operations.md)", _migrate_passwords,
                            {OK: "migrated, or nothing to migrate",
                             RUNTIME: "a Pulumi command failed; what it printed says why, and rerunning continues",
                             INVALID: "a usage error",
                             REFUSED: "a value would not be adopted as it is; nothing was changed"})
    passwords.add_argument("--stack", required=True, help="the platform stack to migrate")
    passwords.add_argument("--project-dir", type=Path, default=Path("."), help="the platform project (default .)")
    passwords.add_argument("--config-file", type=Path, help="the stack's config file, when not Pulumi.<stack>.yaml")

    charts = _group(sub, "charts", "manage local chart copies", {OK, RUNTIME, INVALID})
    fetch = _subcommand(charts, "fetch", "download the Dagster charts without their broken schemas, ahead of the "
                        "stacks (which fetch the version they install themselves)", _charts_fetch,
                        {OK, RUNTIME, INVALID})
    fetch.add_argument("--out", type=Path, default=Path(CHART_CACHE), help=f"cache directory (default {CHART_CACHE})")
    fetch.add_argument("--version", help="chart version (default: the pinned one): the platform's chart_version, or "
                                         "the contract's dagster.chart_version for a pipeline")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns an exit code of `ExitCode` (documented in the README and in `--help`)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors (argparse prints them)
        return int(exc.code or 0)
    handler: Callable[[argparse.Namespace], int] | None = args.handler
    if handler is None:
        # A command group without its subcommand, or no arguments at all: help, not an error.
        args.help_of.print_help()
        return ExitCode.OK
    try:
        return int(handler(args))
    except ConfigError as exc:
        if getattr(args, "json", False) is True:
            _print_json({"valid": False, "problems": [_problem_json(p) for p in exc.problems]})
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return exc.exit_code
    except FloeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        sys.stderr.close()
        return ExitCode.OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
