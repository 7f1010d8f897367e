"""docs/architecture.md's dependency picture is the one the code has (read from the imports)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("memesense_site", "classifier", "moderation", "ml")
DOC = ROOT / "docs" / "architecture.md"


def imports_between_packages() -> dict[tuple[str, str], set[str]]:
    """{(importer, imported): files} over the packages, migrations and tests aside."""
    edges: dict[tuple[str, str], set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "tests" in relative.parts or "migrations" in relative.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    target = name.split(".")[0]
                    if target in PACKAGES and target != package:
                        edges.setdefault((package, target), set()).add(relative.as_posix())
    return edges


def documented_picture() -> dict[str, set[str]]:
    block = re.search(r"```text\n# dependencies\n(.*?)```", DOC.read_text(), re.S)
    assert block, "docs/architecture.md lost its ```text # dependencies block"
    picture = {}
    for line in block.group(1).splitlines():
        importer, _, imported = line.partition(" -> ")
        picture[importer.strip()] = {
            name.strip() for name in imported.split("#")[0].split(",") if name.strip()
        }
    return picture


def test_it_draws_the_dependencies_the_imports_have():
    derived: dict[str, set[str]] = {package: set() for package in PACKAGES}
    for importer, imported in imports_between_packages():
        derived[importer].add(imported)
    assert documented_picture() == derived


def test_it_names_every_module_that_imports_ml():
    text = DOC.read_text()
    importers = set()
    for (_, imported), files in imports_between_packages().items():
        if imported == "ml":
            importers |= files
    missing = sorted(f for f in importers if f not in text)
    assert not missing, missing
