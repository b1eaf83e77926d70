"""The shell blocks of README.md and docs/*.md, run as written (the convention: docs/testing.md, "Docs that run").

A fenced block in `bash`, `sh`, `shell` or `console` is a shell block. Its info string may say more after the
language; without anything more, the block runs here:

- (nothing): runs, in a scratch copy of the repository (git's files of this checkout);
- `needs=WHAT[,WHAT]`: does not run here, for want of WHAT (`NEEDS`); its `floe-infra` commands are still parsed;
- `synopsis`: a usage summary with placeholders; each line's command and options must exist;
- `given=STEP`: runs after a step the reader takes by hand (editing a file, another team's action), which this
  file performs (`GIVEN`);
- `heavy`: runs, under the `heavy` marker (it starts processes of its own).

The runnable blocks of one document run in order in one scratch copy, each from the directory the previous one
ended in, as a reader following the page would. A `floe-infra` command runs in-process; any other line runs in
bash with this interpreter's bin directory first on PATH. Every command must exit 0, unless its comment says
`(exit N)`. In a `console` block, lines starting with `$ ` are commands and the lines after one are output it
must print, in that order.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from nacl.public import PrivateKey

from floe_infra.cli import build_parser, main
from floe_infra.config.keys import decode_private_key
from tests.conftest import REPO

DOCUMENTS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
SHELLS = ("bash", "sh", "shell", "console")
# What a block may need that the suite does not have; each says where it runs instead.
NEEDS = {
    "cluster": "a Kubernetes cluster (kind, k3d, a shared cluster): the e2e runs the real engine against one",
    "pulumi": "the Pulumi CLI logged in to a backend, with stacks: the e2e has both",
    "cloud": "an AWS account",
    "toolchain": "the e2e toolchain (Go, a JDK with Maven): CI runs it (.ci/run)",
    "suite": "it runs this test suite: CI runs it (.ci/run)",
    "network": "a package index or a remote repository beyond what the suite may reach",
    "graphviz": "Graphviz' `dot`",
}
# Blocks CI runs instead of this suite: .ci/run must hold their commands.
RUN_BY_CI = {"suite", "toolchain"}
_FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.S | re.M)
_EXPECTED_EXIT = re.compile(r"\(exit (\d+)\)")
_SHELL_SYNTAX = re.compile(r"[|&;<>`]|\$\(")


@dataclass(frozen=True)
class Block:
    """A shell block of a document."""

    doc: Path
    line: int
    language: str
    attributes: dict[str, str]
    text: str

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}"

    @property
    def needs(self) -> list[str]:
        return [need for need in self.attributes.get("needs", "").split(",") if need]

    @property
    def runs(self) -> bool:
        return not self.needs and "synopsis" not in self.attributes

    def commands(self) -> Iterator[tuple[str, list[str]]]:
        """(command line, expected output lines) of the block: continuations joined, comments kept."""
        lines = self.text.replace("\\\n", " ").splitlines()
        if self.language != "console":
            for line in lines:
                if line.strip() and not line.lstrip().startswith("#"):
                    yield line, []
            return
        command: str | None = None
        expected: list[str] = []
        for line in lines:
            if line.startswith("$ "):
                if command is not None:
                    yield command, expected
                command, expected = line[2:], []
            elif command is not None and line.strip():
                expected.append(line.rstrip())
        if command is not None:
            yield command, expected


def shell_blocks(doc: Path) -> list[Block]:
    text = doc.read_text(encoding="utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        language, *words = match["info"].split() or [""]
        if language not in SHELLS:
            continue
        attributes = dict(word.split("=", 1) if "=" in word else (word, "") for word in words)
        body = "\n".join(line[len(match["indent"]):] for line in match["body"].splitlines()) + "\n"
        blocks.append(Block(doc, text[:match.start()].count("\n") + 1, language, attributes, body))
    return blocks


ALL_BLOCKS = [block for doc in DOCUMENTS for block in shell_blocks(doc)]


# --- the CLI's own parser --------------------------------------------------------------------------


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps its subcommands here only
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_parser(words: list[str]) -> tuple[argparse.ArgumentParser, list[str]]:
    """The parser of the (sub)command `words` start with (after `floe-infra`), and the words it consumed."""
    parser, used = build_parser(), []
    for word in words:
        sub = _subparsers(parser)
        if word not in sub:
            break
        parser = sub[word]
        used.append(word)
    return parser, used


def is_floe_infra(word: str) -> bool:
    return word == "floe-infra" or word.endswith("/floe-infra")


# --- the reader: runs a document's blocks in a scratch copy ----------------------------------------


@dataclass
class Result:
    command: str
    status: int
    out: str
    err: str


@dataclass
class Reader:
    """A reader following one document in a scratch copy of the repository."""

    root: Path
    cwd: Path
    results: list[Result] = field(default_factory=list)

    def run_block(self, block: Block) -> None:
        if "given" in block.attributes:
            GIVEN[block.attributes["given"]](self)
        for command, expected in block.commands():
            if not shlex.split(command, comments=True):
                continue  # a comment
            result = self.run(command)
            self.results.append(result)
            wanted = int(m[1]) if (m := _EXPECTED_EXIT.search(command)) else 0
            assert result.status == wanted, (
                f"{block.where}: `{command.strip()}` exited {result.status}, the document says {wanted}\n"
                f"stdout:\n{result.out[-3000:]}\nstderr:\n{result.err[-3000:]}")
            printed = (result.out + result.err).splitlines()
            position = 0
            for line in expected:
                found = next((i for i in range(position, len(printed)) if printed[i].rstrip() == line), None)
                assert found is not None, f"{block.where}: `{command}` did not print {line!r} (after what came " \
                                          f"before it); it printed:\n{result.out}{result.err}"
                position = found + 1

    def run(self, command: str) -> Result:
        words = shlex.split(command, comments=True)
        if words[0] == "cd" and len(words) == 2:
            target = (self.cwd / words[1]).resolve()
            assert target.is_dir(), f"cd {words[1]}: no such directory"
            assert target.is_relative_to(self.root), f"cd {words[1]}: leads out of the scratch copy"
            self.cwd = target
            return Result(command, 0, "", "")
        if is_floe_infra(words[0]) and not _SHELL_SYNTAX.search(command.split("#", 1)[0]):
            return self.in_process(command, words[1:])
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=self.cwd, env=env, text=True,
                              capture_output=True, timeout=900, check=False)
        return Result(command, done.returncode, done.stdout, done.stderr)

    def in_process(self, command: str, argv: list[str]) -> Result:
        out, err = io.StringIO(), io.StringIO()
        before = Path.cwd()
        os.chdir(self.cwd)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                status = main(argv)
        finally:
            os.chdir(before)
        return Result(command, status, out.getvalue(), err.getvalue())

    def last(self, pattern: str) -> Result:
        """The last command run that matches `pattern`."""
        return next(r for r in reversed(self.results) if re.search(pattern, r.command))


def scratch_copy(target: Path) -> Path:
    """The repository's tracked files (as a fresh clone has them, with this checkout's edits), and its venv."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    # ./dev.sh finds the venv the suite runs in, set up for these requirements, and installs nothing. Were it
    # set up for others, ./dev.sh would install into it from the scratch copy, which this suite never does.
    venv = Path(sys.prefix)
    stamp = venv / ".floe-requirements"
    if not stamp.is_file() or stamp.read_text().strip() != requirements_digest(target):
        pytest.fail(f"the venv {venv} is not set up for this checkout's requirements: run ./dev.sh setup (or "
                    "./dev.sh test), then the suite")
    (target / ".venv").symlink_to(venv)
    return target


def requirements_digest(checkout: Path) -> str:
    """What ./dev.sh setup records in the venv for the requirements of `checkout` (the files dev.sh lists)."""
    files = re.search(r"^REQUIREMENTS=\((.*?)\)", (checkout / "dev.sh").read_text(), re.S | re.M)
    assert files, "dev.sh no longer lists its REQUIREMENTS"
    return hashlib.sha256(b"".join((checkout / name).read_bytes() for name in files[1].split())).hexdigest()


# --- steps the reader takes by hand -----------------------------------------------------------------


def _onboarded(reader: Reader) -> None:
    """The platform team onboards the pipeline in the reader's directory (its name, the public key of its
    tenant.key, the layers its tables use) on the dev platform and shares its contract as contract.json."""
    pipeline = yaml.safe_load((reader.cwd / "floe.yaml").read_text(encoding="utf-8"))
    private = PrivateKey(decode_private_key((reader.cwd / "tenant.key").read_text(encoding="utf-8")))
    public = base64.b64encode(bytes(private.public_key)).decode()
    layers = sorted({table["layer"] for table in pipeline.get("tables", [])})
    platform_file = reader.root / "demo" / "platform" / "platform.dev.yaml"
    platform = yaml.safe_load(platform_file.read_text(encoding="utf-8"))
    platform["deployment"]["tenants"][pipeline["name"]] = {"public_key": public, "writes": layers, "reads": layers}
    platform_file.write_text(yaml.safe_dump(platform, sort_keys=False), encoding="utf-8")
    exported = reader.in_process("contract export", ["contract", "export", "--platform", str(platform_file),
                                                     "--out", str(reader.cwd / "contract.json")])
    assert exported.status == 0, exported.err


GIVEN: dict[str, Callable[[Reader], None]] = {"onboarded": _onboarded}


# --- what the prose quotes from a command's output ---------------------------------------------------


@dataclass(frozen=True)
class Quote:
    """A value the prose of `doc` quotes (group 1 of `prose`, lines joined) from what `command` prints (in the
    document's scratch copy, after its blocks ran; a command a block ran is not run again), as `printed` shows."""

    doc: str
    prose: str
    command: str
    printed: str


# (The demo platform's resource count in docs/operations.md: tests/preview/test_offline_preview.py.)
QUOTES = [
    Quote("docs/ci.md", r"a line per stack previewed \(`([^`]+)` above\)",
          "floe-infra preview --offline --stack dev --pipeline demo/data_engineering/floe.yaml", "{}"),
    Quote("docs/tables.md", r"progress is a line per table \(`([^`]+)`\)",
          "floe-infra tables apply --platform demo/platform/platform.yaml", "{}"),
]


def check_quote(reader: Reader, quote: Quote) -> None:
    prose = " ".join((REPO / quote.doc).read_text(encoding="utf-8").split())
    found = re.search(quote.prose, prose)
    assert found, f"{quote.doc} no longer quotes what this test checks ({quote.prose!r}): update QUOTES"
    ran = [r for r in reader.results if r.command.lstrip().startswith(quote.command)]
    result = ran[-1] if ran else reader.run(quote.command)
    assert result.status == 0, result.err
    assert quote.printed.format(found[1]) in result.out + result.err, (
        f"{quote.doc} quotes {found[1]!r}; `{result.command}` printed:\n{result.out}{result.err}")


# --- the tests ---------------------------------------------------------------------------------------


def test_every_shell_block_runs_or_says_what_it_needs():
    known = {"needs", "synopsis", "given", "heavy"}
    problems = []
    for block in ALL_BLOCKS:
        problems += [f"{block.where}: unknown attribute '{key}' (known: {', '.join(sorted(known))})"
                     for key in block.attributes if key not in known]
        problems += [f"{block.where}: needs={need} is not one of {', '.join(NEEDS)} (docs/testing.md)"
                     for need in block.needs if need not in NEEDS]
        if "given" in block.attributes and block.attributes["given"] not in GIVEN:
            problems.append(f"{block.where}: given={block.attributes['given']} is not a step this suite knows "
                            f"({', '.join(GIVEN)})")
    assert problems == []
    assert any(block.runs for block in ALL_BLOCKS)  # the convention has something to run


def test_blocks_that_ci_runs_instead_are_what_ci_runs():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for block in ALL_BLOCKS:
        if RUN_BY_CI & set(block.needs):
            for command, _ in block.commands():
                assert shlex.split(command, comments=True) in [shlex.split(line, comments=True) for line in ci], \
                    f"{block.where}: `{command}` is marked as run by CI, but .ci/run does not run it"


def test_floe_infra_commands_of_blocks_not_run_here_parse():
    # A block that needs a cluster still names real commands and options.
    for block in ALL_BLOCKS:
        if block.runs or "synopsis" in block.attributes:
            continue
        for command, _ in block.commands():
            try:
                parts = [shlex.split(part, comments=True) for part in re.split(r"&&|\|\||;|\|", command)]
            except ValueError as exc:
                pytest.fail(f"{block.where}: `{command}` is not valid shell ({exc})")
            for words in parts:
                if words and is_floe_infra(words[0]):
                    try:
                        build_parser().parse_args(words[1:])
                    except SystemExit:
                        pytest.fail(f"{block.where}: `{shlex.join(words)}` is not a valid floe-infra command")


def test_synopsis_lines_name_commands_and_options_that_exist():
    synopses = [block for block in ALL_BLOCKS if "synopsis" in block.attributes]
    assert synopses, "README.md's command list is a synopsis block"
    for block in synopses:
        for command, _ in block.commands():
            words = command.split(" #", 1)[0].split()
            assert is_floe_infra(words[0]), f"{block.where}: a synopsis line starts with floe-infra: {command}"
            parser, used = command_parser(words[1:])
            assert used, f"{block.where}: `{command}` names no floe-infra command"
            options = {option for action in parser._actions for option in action.option_strings}
            for option in re.findall(r"(?<![\w-])--?[a-z][a-z0-9-]*", " ".join(words[1 + len(used):])):
                assert option in options, f"{block.where}: `floe-infra {' '.join(used)}` has no option {option}"


CHECKED_DOCUMENTS = sorted({block.doc for block in ALL_BLOCKS if block.runs} | {REPO / q.doc for q in QUOTES})


@pytest.mark.parametrize("doc", [
    pytest.param(doc, id=str(doc.relative_to(REPO)),
                 marks=[pytest.mark.heavy] if any("heavy" in b.attributes for b in shell_blocks(doc)) else [])
    for doc in CHECKED_DOCUMENTS])
def test_the_shell_blocks_of_a_document_run_as_written_and_print_what_it_quotes(doc: Path, tmp_path: Path):
    reader = Reader(root=scratch_copy(tmp_path / "repo"), cwd=tmp_path / "repo")
    for block in shell_blocks(doc):
        if block.runs:
            reader.run_block(block)
    for quote in QUOTES:
        if REPO / quote.doc == doc:
            check_quote(reader, quote)


# --- the harness itself ------------------------------------------------------------------------------


def _block(text: str, language: str = "bash") -> Block:
    return Block(REPO / "README.md", 1, language, {}, text)


def test_a_command_that_fails_as_written_fails_its_document(tmp_path: Path):
    with pytest.raises(AssertionError, match=r"`floe-infra validate --pipeline nowhere.yaml` exited 2"):
        Reader(tmp_path, tmp_path).run_block(_block("floe-infra validate --pipeline nowhere.yaml\n"))
    with pytest.raises(AssertionError, match=r"`test -e nowhere` exited 1"):
        Reader(tmp_path, tmp_path).run_block(_block("test -e nowhere\n"))


def test_a_command_the_document_says_fails_must_fail_so(tmp_path: Path):
    Reader(tmp_path, tmp_path).run_block(_block("floe-infra validate --pipeline nowhere.yaml   # (exit 2)\n"))
    with pytest.raises(AssertionError, match="exited 0, the document says 2"):
        Reader(tmp_path, tmp_path).run_block(_block("floe-infra --help   # (exit 2)\n"))


def test_a_console_block_holds_its_command_to_the_output_it_shows(tmp_path: Path):
    reader = Reader(tmp_path, tmp_path)
    reader.run_block(_block("$ floe-infra validate --pipeline nowhere.yaml   # (exit 2)\nnowhere.yaml:0:0: file not "
                            "found\n1 problem(s) found\n", "console"))
    with pytest.raises(AssertionError, match="did not print '2 problem"):
        reader.run_block(_block("$ floe-infra validate --pipeline nowhere.yaml   # (exit 2)\n2 problem(s) found\n",
                                "console"))


def test_a_block_follows_the_directory_the_one_before_left(tmp_path: Path):
    (tmp_path / "project").mkdir()
    reader = Reader(tmp_path, tmp_path)
    reader.run_block(_block("cd project\ntouch made-here\n"))
    reader.run_block(_block("test -e made-here\n"))
    assert (tmp_path / "project" / "made-here").exists()
    with pytest.raises(AssertionError, match="leads out of the scratch copy"):
        reader.run_block(_block("cd ../..\n"))
