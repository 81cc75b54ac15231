"""docs/reference.md read beside the code: commands' options and defaults, registered names, strategies.

Each command's table (`| Argument / option | Default | Description |`) must
list exactly the options the typer command has, every name of each, and the
default the code gives: a literal default as written in the code, a flag pair
by the flag that is on, and a default the code leaves to the labels (None,
filled from `config.component`'s recipes) as "new types: X; corrections: Y".
Every registered name the reference mentions must be declared in
pyproject.toml's entry points and every declared one listed in its first
table; each strategy's row names the registered functions its config in
`configs/` uses, no more and no fewer.
"""
import re
from typing import Dict, List, Tuple

import pytest
from conftest import ROOT
from test_readme import declared_entry_points, reference_section

COMMANDS = ["init-config", "consolidate", "distill", "annotate", "evaluate"]
REGISTERED = re.compile(r"`(rehearsal_\w+\.v\d+)`")
CONFIG_NAME = re.compile(r'"(rehearsal_\w+\.v\d+)"')


def command_section(command: str) -> str:
    return reference_section("`spacy rehearsal` commands").split(f"### `spacy rehearsal {command}`", 1)[1].split("\n### ", 1)[0]


def option_rows(command: str) -> Dict[Tuple[str, ...], str]:
    """The option table's rows: (the names in the first cell) -> the default cell."""
    table = command_section(command).split("| Argument / option | Default | Description |", 1)[1]
    rows = {}
    for line in table.split("\n\n", 1)[0].strip().splitlines()[1:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names = tuple(re.findall(r"`([^`]+)`", cells[0]))
        if not any("*" in n for n in names):  # `--paths.*`: overrides passed through, not options
            rows[names] = cells[1]
    return rows


def command_params(command: str) -> list:
    import typer

    import spacy_rehearsal.cli  # noqa: F401  (registers the commands)
    from spacy_rehearsal.cli._util import rehearsal_cli

    return [p for p in typer.main.get_command(rehearsal_cli).commands[command].params if p.name != "help"]


def names_of(param) -> Tuple[str, ...]:
    if param.param_type_name == "argument":
        return (re.sub(r"_(PATH|DIR)$", "", param.name.upper()),)  # the reference says INPUT, OUTPUT
    return tuple(param.opts + param.secondary_opts)


def shown(param, value) -> str:
    """A default as the reference writes it."""
    if isinstance(value, bool):
        if param.secondary_opts:
            return f"`{param.opts[0] if value else param.secondary_opts[0]}`"
        return "on" if value else "off"
    if value is None:
        return "all"
    return f"`{value}`"


def expected_default(param) -> str:
    from spacy_rehearsal.config.component import CORRECTIONS, NEW_TYPES

    if param.required:
        return ""
    if param.default is None:
        field = param.name.replace("component_", "")
        if not hasattr(NEW_TYPES, field):
            return ""  # nothing: the option is off unless given
        new, corrections = shown(param, getattr(NEW_TYPES, field)), shown(param, getattr(CORRECTIONS, field))
        return new if new == corrections else f"new types: {new}; corrections: {corrections}"
    return shown(param, param.default)


@pytest.mark.parametrize("command", COMMANDS)
def test_reference_lists_each_option_with_every_name_and_the_codes_default(command):
    rows = option_rows(command)
    params = {names_of(p): p for p in command_params(command)}
    assert sorted(rows) == sorted(params), f"{command}: documented {sorted(set(rows) - set(params))}, in the code {sorted(set(params) - set(rows))}"
    for names, param in params.items():
        assert rows[names] == expected_default(param), f"{command} {names}: documented default {rows[names]!r}, the code's {expected_default(param)!r}"


@pytest.mark.parametrize("command", COMMANDS)
def test_usage_line_names_only_options_the_command_has(command):
    (usage,) = re.findall(r"```bash\n(.*?)```", command_section(command), flags=re.S)
    known = {n for p in command_params(command) for n in names_of(p)}
    used = set(re.findall(r"(?<![\w.])(--?[a-z][\w-]*)", usage)) - {"-m"}
    assert used - {"--paths"} <= known, sorted(used - known)


def test_every_registered_name_the_reference_mentions_is_declared_and_tabled():
    reference = (ROOT / "docs" / "reference.md").read_text(encoding="utf8")
    declared = {name for group, names in declared_entry_points().items() if group != "spacy_cli" for name in names}
    assert set(REGISTERED.findall(reference)) <= declared, sorted(set(REGISTERED.findall(reference)) - declared)
    first_table = reference.split("\n## ", 1)[0]
    assert set(REGISTERED.findall(first_table)) == declared


def strategy_rows() -> List[List[str]]:
    table = command_section("init-config").split("| `--strategy` |", 1)[1]
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in table.split("\n\n", 1)[0].strip().splitlines()[2:]]


def test_strategies_table_names_what_each_strategy_writes():
    from spacy_rehearsal.config.strategies import STRATEGIES

    rows = strategy_rows()
    assert [re.findall(r"`([\w-]+)`", row[0])[0] for row in rows] == list(STRATEGIES)
    for row in rows:
        (config,) = re.findall(r"`(configs/[\w.]+\.cfg)`", row[-1])
        written = set(CONFIG_NAME.findall((ROOT / config).read_text(encoding="utf8")))
        named = set(REGISTERED.findall(" ".join(row[1:])))
        assert named == written, f"{row[0]}: the row names {sorted(named)}, {config} uses {sorted(written)}"
