"""README.md's Architecture section shows the packages in the order the layers contract
in pyproject.toml enforces; the two are checked against each other, not kept by hand."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _contract(name: str) -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    [contract] = [c for c in contracts if c["name"] == name]
    return dict(contract)


def _readme_diagram() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Architecture\n(.*?)^## ", text, re.S | re.M)
    assert section, "README.md has no '## Architecture' section"
    block = re.search(r"```text\n(.*?)```", section.group(1), re.S)
    assert block, "the Architecture section has no ```text diagram"
    return [line.split()[0] for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_shows_the_app_packages_in_the_order_of_the_layers_contract() -> None:
    layers = _contract("app packages depend downwards")["layers"]
    shown = [name for name in _readme_diagram() if name.startswith("app.")]
    assert shown == layers


def test_the_readme_puts_the_window_on_top_and_the_database_at_the_bottom() -> None:
    assert _contract("ui -> app -> db, one way")["layers"] == ["ui", "app", "db"]
    shown = _readme_diagram()
    assert shown[0] == "ui" and shown[-1] == "db"


def test_every_package_of_app_is_in_the_layers_contract() -> None:
    """A new package must take its place in the order (and in the README)."""
    layers = set(_contract("app packages depend downwards")["layers"])
    packages = {f"app.{p.name}" for p in (ROOT / "app").iterdir() if (p / "__init__.py").exists()}
    modules = {f"app.{p.stem}" for p in (ROOT / "app").glob("*.py") if p.stem != "__init__"}
    assert packages | modules == layers
