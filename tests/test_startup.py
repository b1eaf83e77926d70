"""How the Pulumi programs and the dynamic provider process start and end.

Every `pulumi preview` and `pulumi up` starts the program and, for the dynamic resources, a provider
process (twice: the engine starts one for the refresh every floe-infra project runs first and one
for the update), and waits for each to exit again. What they import is paid on every start, and
Python's final garbage collection over it all on every exit. benchmarks/bench_engine.py measures
the cost; these tests keep the heavy libraries off the paths that do not need them, and the final
collection off both. Each case runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

TIMEOUT_SECONDS = 120
# pyiceberg's table and catalog packages: most of a pipeline's start-up, needed only to reach a live table.
PYICEBERG_CATALOG = ("pyiceberg.catalog", "pyiceberg.table")
# The configuration models of both tiers and their loader.
CONFIG_MODELS = ("floe_infra.config.loader", "floe_infra.config.platform", "floe_infra.config.pipeline")

# What the provider process does first: the engine hands it a pickled provider, which names its class.
UNPICKLE = "import dill; provider = dill.loads(b'\\x80\\x02cfloe_infra.providers\\n{name}\\n)\\x81.')\n"
UNCHANGED_TABLE = """
from tests.conftest import DEMO_PIPELINE
import yaml
inputs = {{"catalog": {{"uri": "http://127.0.0.1:1/api/catalog", "warehouse": "lakehouse", "scope": None}},
          "credential": "id:secret", "namespace": ["bronze", "demo"], "owner": "demo/dev", "provider_version": 1,
          "table": yaml.safe_load(DEMO_PIPELINE.read_text())["tables"][0]}}
checked = provider.check(inputs, inputs)
assert checked.failures == [] and checked.inputs["plan"] == [], checked
assert provider.diff("id", inputs, checked.inputs).changes is False
"""


# Garbage a final collection would find: a cycle that says so when it is collected.
CYCLE = """
import gc, os
class Cycle:
    def __init__(self, write=os.write):
        self.me, self.write = self, write
    def __del__(self):
        self.write(1, b"collected at exit")
gc.disable()
Cycle()
"""


def imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code` in the repository."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                            timeout=TIMEOUT_SECONDS, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return set(json.loads(result.stdout.splitlines()[-1]))


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_the_pipeline_program_declares_its_tables_without_pyiceberg_catalog_code():
    assert loaded(imported_after("import floe_infra.pipeline.program"), PYICEBERG_CATALOG) == []


def test_a_no_op_check_of_a_table_needs_no_pyiceberg_catalog_code():
    # The update's provider process of a no-op preview only checks and diffs unchanged declarations.
    modules = imported_after(UNPICKLE.format(name="TableSetProvider") + UNPICKLE.format(name="IcebergTableProvider")
                             + UNCHANGED_TABLE.format())
    assert loaded(modules, PYICEBERG_CATALOG) == []


def test_the_platform_providers_start_without_the_configuration_models():
    names = ("CatalogProvider", "NamespaceProvider", "CatalogRoleProvider", "PrincipalRoleProvider",
             "PrincipalProvider", "RootCredentialProvider", "GeneratedPasswordProvider")
    modules = imported_after("".join(UNPICKLE.format(name=name) for name in names))
    assert loaded(modules, (*CONFIG_MODELS, "pydantic", "pyiceberg")) == []


def test_the_checks_can_see_a_heavy_import():
    # The probe itself: reading a table does load pyiceberg's catalog code, and the check above would see it.
    modules = imported_after(UNPICKLE.format(name="IcebergTableProvider")
                             + "from floe_infra.iceberg.engine import plan_table\n")
    assert "pyiceberg.catalog" in loaded(modules, PYICEBERG_CATALOG)


def output_of(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            timeout=TIMEOUT_SECONDS, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_python_collects_garbage_at_exit_unless_told_not_to():
    # The probe itself: an interpreter left alone runs its final collection, and this garbage shows it.
    assert "collected at exit" in output_of(CYCLE)


def test_the_provider_process_exits_without_the_final_collection():
    configured = ("import pulumi.dynamic as dynamic\n" + UNPICKLE.format(name="CatalogProvider")
                  + "provider.configure(dynamic.ConfigureRequest(dynamic.Config({}, 'floe-platform')))\n")
    assert "collected at exit" not in output_of(configured + CYCLE)


def test_the_programs_exit_without_the_final_collection():
    # Both programs skip it first thing, before reading any configuration (here: none, so they stop at once).
    for program in ("floe_infra.platform.program import run_platform as run",
                    "floe_infra.pipeline.program import run_pipeline as run"):
        code = f"from {program}\ntry:\n    run()\nexcept Exception:\n    pass\n"
        assert "collected at exit" not in output_of(code + CYCLE)


# Counts the walks over the timezone database (zoneinfo.available_timezones) from here on.
COUNT_TIMEZONE_WALKS = """
import zoneinfo
walks = []
real_walk = zoneinfo.available_timezones
zoneinfo.available_timezones = lambda: walks.append(1) or real_walk()
"""
LOAD_DEMO_PLATFORM = """
from tests.conftest import DEMO_PLATFORM
from floe_infra.config.loader import load_platform
loaded = load_platform(DEMO_PLATFORM)
assert loaded.config.infrastructure.timezone == "UTC", loaded.config.infrastructure.timezone
"""


def test_a_platform_in_utc_loads_without_walking_the_timezone_database():
    # The walk (a directory listing of the tz database) was paid at import by every program start.
    code = COUNT_TIMEZONE_WALKS + "import floe_infra.platform.program\n" + LOAD_DEMO_PLATFORM + "print(len(walks))\n"
    assert output_of(code).split() == ["0"]


def test_another_timezone_is_still_checked_against_the_database():
    code = (COUNT_TIMEZONE_WALKS + "from floe_infra.config.infrastructure import known_timezone\n"
            "print(known_timezone('Europe/Berlin'), known_timezone('Mars/Olympus'), len(walks) > 0)\n")
    assert output_of(code).split() == ["True", "False", "True"]


def test_the_programs_build_only_the_configuration_models_they_validate():
    # The platform program imports the pipeline's models but never validates one: with validators built at
    # import, every start paid for them.
    code = ("import floe_infra.platform.program\n" + LOAD_DEMO_PLATFORM
            + "from floe_infra.config.pipeline import PipelineConfig\nfrom floe_infra.config.platform import "
            "PlatformConfig\nprint(PlatformConfig.__pydantic_complete__, PipelineConfig.__pydantic_complete__)\n")
    assert output_of(code).split() == ["True", "False"]
