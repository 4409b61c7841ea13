"""Reading the YAML files researchers write (scenarios, experiments).

Safe loading only (no Python tags), and a key written twice in one mapping is an error: the
plain loader keeps the last one silently, so ``seed: 42`` then ``seed: 7`` would run seed 7.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

from eipsim.errors import UserError

MAX_YAML_BYTES = 10_000_000  # a scenario or experiment file is a few kB


class UniqueKeyLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key written twice in the same mapping."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` merges; explicit keys may override merged ones
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # unhashable: the base class reports it
            if first is not None:
                raise ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"duplicate key {key!r} (first written on line {first.start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str) -> Any:
    """Parse YAML text with the strict loader (yaml errors propagate)."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: str | Path, what: str) -> tuple[Any, Path]:
    """Read a YAML file; a missing file or bad YAML is a UserError naming file and line."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{p}: is a folder, not a {what} file")
    if not p.is_file():
        raise UserError(f"{p}: {what} file not found")
    try:
        if p.stat().st_size > MAX_YAML_BYTES:
            raise UserError(f"{p}: larger than {MAX_YAML_BYTES:,} bytes; not a {what} file")
        return parse_yaml(p.read_text(encoding="utf-8")), p
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise UserError(f"{p}: malformed YAML{where}: {problem}") from None
    except UnicodeDecodeError:
        raise UserError(f"{p}: not a UTF-8 text file") from None
    except RecursionError:
        raise UserError(f"{p}: YAML nested too deeply") from None
    except OSError as err:
        raise UserError(f"{p}: cannot read the {what} file ({err.strerror})") from None
