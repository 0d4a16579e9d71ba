"""Validation of the integration's static files: manifest, hacs.json, translations.

Translation keys are collected from the code with :mod:`ast`, so a key used in code but
missing in English or Italian fails here rather than showing a raw key to a user.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
INTEGRATION = REPO / "custom_components" / "cer_community"
LANGUAGES = ("en", "it")

MANIFEST_REQUIRED = {
    "domain",
    "name",
    "codeowners",
    "config_flow",
    "documentation",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "requirements",
    "version",
}
HACS_ALLOWED = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
    "render_readme",
}


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_manifest_keys_and_order() -> None:
    manifest = _load(INTEGRATION / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "after domain and name, keys are alphabetical"
    assert set(keys) >= MANIFEST_REQUIRED, MANIFEST_REQUIRED - set(keys)
    assert manifest["domain"] == INTEGRATION.name
    assert manifest["iot_class"] == "local_polling"
    assert manifest["integration_type"] == "hub"
    assert manifest["config_flow"] is True
    for requirement in manifest["requirements"]:
        assert "==" not in requirement, "HA pins shared libraries: use >= in the manifest"
    assert any(r.startswith("pymodbus>=") for r in manifest["requirements"])


def test_hacs_json() -> None:
    hacs = _load(REPO / "hacs.json")
    assert set(hacs) <= HACS_ALLOWED, set(hacs) - HACS_ALLOWED
    assert hacs["country"] == "IT"
    assert hacs["homeassistant"] == "2024.3.0"
    assert hacs["render_readme"] is True
    assert hacs["name"]


def _flatten(tree: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, f"{path}.")
        else:
            assert isinstance(value, str) and value.strip(), f"{path} is empty"
            yield path


def _translations(language: str) -> set[str]:
    return set(_flatten(_load(INTEGRATION / "translations" / f"{language}.json")))


def test_languages_have_the_same_keys() -> None:
    english = _translations("en")
    for language in LANGUAGES[1:]:
        other = _translations(language)
        assert english - other == set(), f"missing in {language}"
        assert other - english == set(), f"only in {language}"


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _platform_of(path: Path) -> str | None:
    return path.stem if path.stem in {"sensor", "binary_sensor", "button", "switch"} else None


def _used_keys(path: Path) -> Iterator[tuple[str, str]]:
    """Yield (kind, key) for each translation key a module uses."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    flow = path.name == "config_flow.py"
    repairs = path.name == "repairs.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef) and node.name.startswith("async_step_"):
            step = node.name.removeprefix("async_step_")
            if repairs:
                if step != "init":  # a fix flow's init step only forwards
                    yield ("repair_step", step)
            elif step not in {"import", "reauth", "zeroconf", "dhcp"}:
                yield ("step", step)
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                value = _string(keyword.value)
                if value is None:
                    continue
                if keyword.arg == "reason":
                    yield ("abort", value)
                elif keyword.arg == "translation_key":
                    yield ("translation_key", value)
        if isinstance(node, ast.Assign) and flow:
            value = _string(node.value)
            for target in node.targets:
                if (
                    value is not None
                    and isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "errors"
                ):
                    yield ("error", value)


def _all_used() -> Iterator[tuple[Path, str, str]]:
    for path in sorted(INTEGRATION.rglob("*.py")):
        for kind, key in _used_keys(path):
            yield path, kind, key


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_used_in_code_is_translated(language: str) -> None:
    keys = _translations(language)
    missing = []
    for path, kind, key in _all_used():
        relative = path.relative_to(INTEGRATION)
        if kind == "step":
            sections = ("config.step", "options.step")
            ok = any(any(k.startswith(f"{s}.{key}.") for k in keys) for s in sections)
        elif kind == "repair_step":
            ok = any(k.startswith("issues.") and f".fix_flow.step.{key}." in k for k in keys)
        elif kind == "error":
            ok = f"config.error.{key}" in keys or f"options.error.{key}" in keys
        elif kind == "abort" and path.name == "repairs.py":
            ok = any(k.startswith("issues.") and f".fix_flow.abort.{key}" in k for k in keys)
        elif kind == "abort":
            ok = f"config.abort.{key}" in keys or f"options.abort.{key}" in keys
        else:
            platform = _platform_of(path)
            candidates = [
                k
                for k in keys
                if (platform and k.startswith(f"entity.{platform}.{key}."))
                or (not platform and k.startswith("entity.") and f".{key}." in k)
                or k.startswith((f"issues.{key}.", f"exceptions.{key}."))
            ]
            ok = bool(candidates)
        if not ok:
            missing.append(f"{relative}: {kind} {key!r}")
    assert missing == [], f"not translated in {language}: {missing}"


def test_the_collector_sees_the_config_flow() -> None:
    """Guard against a collector that finds nothing and so passes vacuously."""
    used = {(kind, key) for _, kind, key in _all_used()}
    assert ("step", "user") in used
    assert ("error", "invalid_pod") in used
