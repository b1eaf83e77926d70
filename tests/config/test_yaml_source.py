"""Hostile and unusual YAML: refused precisely, never with a traceback."""

from __future__ import annotations

import gc

import pytest

from floe_infra.config import load_platform
from floe_infra.config.yaml_source import MAX_DEPTH, MAX_FILE_BYTES
from floe_infra.errors import ConfigError


def refused(write_yaml, content: str | bytes) -> list[str]:
    path = write_yaml(content)
    with pytest.raises(ConfigError) as caught:
        load_platform(path, env={})
    return [str(p).removeprefix(f"{path}:") for p in caught.value.problems]


def alias_bomb(levels: int = 12, width: int = 10) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_at_the_alias_that_overflows(write_yaml):
    problems = refused(write_yaml, alias_bomb())
    assert len(problems) == 1
    assert "YAML aliases expand to too many nodes (an alias bomb?)" in problems[0]


def test_a_few_aliases_are_fine_and_resolve_like_yaml_says(write_yaml):
    path = write_yaml(
        "storage:\n"
        "  bronze: &s3 {bucket: floe-bronze, endpoint: 'http://minio:9000', path_style_access: true}\n"
        "  silver:\n    <<: *s3\n    bucket: floe-silver\n"
        "  gold: *s3\n"
    )
    storage = load_platform(path, env={}).config.storage
    assert storage["silver"].bucket == "floe-silver"
    assert storage["silver"].path_style_access is True
    assert storage["gold"].bucket == "floe-bronze"


def test_merge_key_error_in_the_anchor_points_at_the_anchor(write_yaml):
    problems = refused(write_yaml, "defaults: &d {bucket: Bad_Bucket}\n"
                                   "storage:\n  a:\n    <<: *d\n")
    assert [p.split(": ")[0:2] for p in problems] == [["1:1", "defaults"], ["1:23", "storage.a.bucket"]]


def test_deep_nesting_is_refused_with_its_limit(write_yaml):
    depth = MAX_DEPTH + 5
    text = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "leaf\n"
    problems = refused(write_yaml, text)
    assert problems == [f"{MAX_DEPTH + 2}:{2 * MAX_DEPTH + 3}: " + ".".join(f"k{i}" for i in range(MAX_DEPTH + 1))
                        + f": nesting is deeper than {MAX_DEPTH} levels; flatten the document"]


def test_flow_nesting_past_libyaml_limit_is_a_syntax_error(write_yaml):
    problems = refused(write_yaml, "x: " + "[" * 2000 + "]" * 2000 + "\n")
    assert len(problems) == 1
    assert "YAML syntax error" in problems[0]
    assert "nesting depth" in problems[0]


def test_invalid_utf8_is_located_at_the_bad_byte(write_yaml):
    problems = refused(write_yaml, b"version: \"1.2.0\"\nstorage:\n  d\xe9fault: {}\n")
    assert problems == ["3:4: file is not valid UTF-8 (byte 0xe9); save it as UTF-8"]


def test_file_over_the_size_limit_is_refused_before_parsing(write_yaml):
    problems = refused(write_yaml, b"# " + b"x" * (MAX_FILE_BYTES + 1))
    assert problems == ["0:0: file is 32.0 MB; the limit is 32 MB"]


def test_multi_megabyte_platform_file_loads(write_yaml):
    # 5 MB of attributes: large but legitimate input.
    lines = ['version: "1.2.0"', "observability:", "  attributes:"]
    lines += [f"    attribute.number.{i:06d}: value-{i:06d}-padding-padding-padding" for i in range(90_000)]
    path = write_yaml("\n".join(lines) + "\n")
    assert path.stat().st_size > 5_000_000
    assert len(load_platform(path, env={}).config.observability.attributes) == 90_000


def test_nul_byte_is_a_syntax_error_with_position(write_yaml):
    problems = refused(write_yaml, b"version: \"1.2.0\"\nstorage: \x00\n")
    assert problems == ["2:10: YAML syntax error: character #x0000 is not allowed in YAML; remove it"]


def test_missing_file_is_a_problem_not_a_traceback(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_platform(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}:0:0: file not found"


def test_env_expansion_uses_value_default_and_dollar_escape(write_yaml):
    path = write_yaml("storage:\n  default:\n    bucket: ${FLOE_BUCKET}\n    endpoint: ${FLOE_S3_URL:-http://minio:9000}\n"
                      "observability:\n  attributes:\n    price: $${NOT_A_VAR}\n")
    cfg = load_platform(path, env={"FLOE_BUCKET": "floe-from-env"}).config
    assert cfg.storage["default"].bucket == "floe-from-env"
    assert cfg.storage["default"].endpoint == "http://minio:9000"
    assert cfg.observability.attributes["price"] == "${NOT_A_VAR}"


def test_an_alias_is_charged_its_whole_expansion_without_expanding_it(write_yaml):
    # a1 and a2 cost 10 * 11 and 10 * 111 nodes; each *a2 below stands for 1111: the eighth is over the budget
    # (10,000 nodes for a small file), counted at the alias, long before anything is expanded.
    problems = refused(write_yaml, alias_bomb(levels=3) + "big: [" + ", ".join(["*a2"] * 10) + "]\n")
    assert problems == ["4:" + str(7 + 5 * 7) + ": big[7]: YAML aliases expand to too many nodes (an alias bomb?); "
                        "write the repeated values out or use fewer aliases"]


def test_an_alias_placing_its_anchor_too_deep_is_refused_at_the_alias(write_yaml):
    deep = "[" * 40 + "x" + "]" * 40
    problems = refused(write_yaml, f"a: &deep {deep}\nb: {'[' * 30}*deep{']' * 30}\n")
    assert problems == [f"2:{4 + 30}: b" + "[0]" * 30 + f": nesting is deeper than {MAX_DEPTH} levels; "
                        "flatten the document"]


def test_an_alias_inside_its_own_anchor_is_refused(write_yaml):
    problems = refused(write_yaml, "storage:\n  loop: &loop {bucket: floe-data, again: *loop}\n")
    assert problems == ["2:42: storage.loop.again: alias *loop stands for a node that contains it (line 2): YAML "
                        "here must be a tree; write the values out"]


def test_an_undefined_alias_is_named(write_yaml):
    problems = refused(write_yaml, "storage:\n  default: *nowhere\n")
    assert problems == ["2:12: YAML syntax error: found undefined alias *nowhere; define the anchor (&name) before "
                        "the alias (*name) that uses it"]


def test_an_anchor_defined_twice_is_refused_with_both_lines(write_yaml):
    problems = refused(write_yaml, "a: &x 1\nb:\n  c: &x 2\n")
    assert problems == ["3:6: YAML syntax error: found duplicate anchor &x (first defined at line 1); give each "
                        "anchor its own name"]


def test_a_second_document_is_refused_where_it_starts(write_yaml):
    problems = refused(write_yaml, 'version: "1.2.0"\n---\nstorage: {}\n')
    assert problems == ["2:1: YAML syntax error: expected a single document in the stream but found another "
                        "document"]


def test_an_alias_of_a_scalar_is_a_key_and_its_value_is_located(write_yaml):
    problems = refused(write_yaml, "observability:\n  attributes: {name: &k tier}\nstorage:\n  *k : {bucket: B}\n")
    assert [p.split(": ", 2)[:2] for p in problems] == [["4:17", "storage.tier.bucket"]]


def test_merged_and_aliased_values_are_located_where_they_are_written(write_yaml):
    # Own keys win over merged ones, earlier merge sources over later ones; each error points at the text it
    # came from, through any number of aliases.
    problems = refused(write_yaml, (
        "storage:\n"
        "  base: &base {bucket: floe-base, region: 1}\n"
        "  other: &other {bucket: Bad_Other, path_style_access: maybe}\n"
        "  a:\n"
        "    <<: [*base, *other]\n"
        "    bucket: Bad_Own\n"
        "  b: *other\n"))
    assert sorted(p.split(": ", 2)[:2] for p in problems) == sorted([
        ["2:43", "storage.base.region"], ["2:43", "storage.a.region"],
        ["3:26", "storage.other.bucket"], ["3:56", "storage.other.path_style_access"],
        ["6:13", "storage.a.bucket"], ["3:56", "storage.a.path_style_access"],
        ["3:26", "storage.b.bucket"], ["3:56", "storage.b.path_style_access"]])


def test_duplicate_keys_name_the_first_line_after_aliases_and_merges(write_yaml):
    problems = refused(write_yaml, "a: &a {x: 1}\nstorage:\n  <<: {default: *a}\n  p: {bucket: floe-p}\n"
                                   "  p: {bucket: floe-q}\n")
    assert "5:3: storage.p: duplicate key 'p' (first defined at line 4); remove one of them" in problems


def test_a_merge_of_an_aliased_list_merges_each_of_its_mappings(write_yaml):
    # `<<: *list` is `<<: [*a, *b]` written once: earlier mappings win, the mapping's own keys win over all.
    path = write_yaml("governance:\n  templates: &both [{bucket: floe-first}, {path_style_access: true, bucket: x}]\n"
                      "storage:\n  d:\n    <<: *both\n    endpoint: http://minio:9000\n")
    profile = load_platform(path, env={}).config.storage["d"]
    assert (profile.bucket, profile.path_style_access, profile.endpoint) == ("floe-first", True, "http://minio:9000")


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_leaves_the_cycle_collector_as_it_found_it(write_yaml, enabled: bool):
    # The loader pauses it while it builds the data and models; a long-lived program (a Pulumi program, a
    # provider) must get it back, also when the file is refused.
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        load_platform(write_yaml("storage:\n  default: {bucket: floe-data}\n"), env={})
        assert gc.isenabled() is enabled
        refused(write_yaml, "storage:\n  default: {bucket: Bad_Bucket}\n")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
