"""Community and study files (YAML)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ..domain.community import Community, parse_community
from ..domain.errors import InvalidInput, Problem
from ..domain.projection import Study, parse_study


class _DecimalLoader(yaml.SafeLoader):
    """Safe YAML loader that reads floats as exact :class:`Decimal`."""


def _decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node))
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        return loader.construct_yaml_float(node)


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def load_yaml(text: str, name: str) -> Any:
    """Parse YAML text (floats as Decimal); InvalidInput names ``name:line``."""
    try:
        return yaml.load(text, Loader=_DecimalLoader)  # a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = getattr(err, "problem", None) or str(err)
        raise InvalidInput([Problem(where, f"not valid YAML: {problem}")]) from err


def read_text_file(path: Path) -> str:
    """The UTF-8 text at ``path``; a missing, unreadable or non-UTF-8 file is InvalidInput."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise InvalidInput.single(str(path), "no such file") from err
    except UnicodeDecodeError as err:
        raise InvalidInput.single(str(path), "not UTF-8 text") from err
    except OSError as err:
        raise InvalidInput.single(str(path), f"cannot read: {err.strerror}") from err


def read_community_text(text: str, name: str = "community") -> Community:
    """Parse and validate a community file's text; problems are prefixed by ``name``."""
    data = load_yaml(text, name)
    try:
        return parse_community(data)
    except InvalidInput as err:
        raise err.within(name) from None


def load_community(path: str | Path) -> Community:
    """Read and validate the community file at ``path``."""
    path = Path(path)
    return read_community_text(read_text_file(path), str(path))


def load_study(path: str | Path) -> Study:
    """Read and validate the ``project`` study file at ``path``."""
    path = Path(path)
    data = load_yaml(read_text_file(path), str(path))
    try:
        return parse_study(data)
    except InvalidInput as err:
        raise err.within(str(path)) from None
