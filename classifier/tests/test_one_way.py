"""Dependencies flow one way, moderation -> classifier -> ml: classifier never uses moderation.

Django imports every installed app, so whether `moderation` is in sys.modules says nothing;
the source is read instead. Migrations (which name other apps' migrations) and tests (which
exercise the whole site) are exempt.
"""

import ast
from pathlib import Path

import classifier

FORBIDDEN = "moderation"
# Calls that import by name, and the reverse-relation trick that reaches another app's model
# without an import statement (Meme._meta.get_field("corrections").related_model).
IMPORTING_CALLS = {"import_module", "__import__", "get_model", "get_app_config"}


def uses_of_other_app(root: Path, app: str = FORBIDDEN) -> list[str]:
    """Every place under `root` (migrations and tests aside) that imports or reaches `app`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if "migrations" in parts or "tests" in parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in IMPORTING_CALLS and node.args:
                    first = node.args[0]
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        names = [first.value]
            elif isinstance(node, ast.Attribute) and node.attr == "related_model":
                names = [f"{app} (through related_model)"]
            for name in names:
                if name == app or name.startswith(f"{app}.") or name.startswith(f"{app} "):
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno}: {name}")
    return found


def test_it_keeps_classifier_free_of_moderation():
    assert uses_of_other_app(Path(classifier.__file__).parent) == []


def test_it_finds_an_import_of_moderation(tmp_path):
    # The check itself can fail: each way of reaching moderation is caught.
    app = tmp_path / "classifier"
    (app / "api").mkdir(parents=True)
    (app / "migrations").mkdir()
    (app / "api" / "views.py").write_text(
        "from moderation.services import StaleReviewError\n"
        "def f():\n"
        "    import moderation.models\n"
        "    return Meme._meta.get_field('corrections').related_model\n"
    )
    (app / "apps.py").write_text(
        "from django.apps import apps\napps.get_model('moderation', 'X')\n"
    )
    (app / "migrations" / "0002.py").write_text("from moderation.models import X\n")
    found = uses_of_other_app(app)
    assert sorted(line.split(": ", 1)[1] for line in found) == [
        "moderation",
        "moderation (through related_model)",
        "moderation.models",
        "moderation.services",
    ]
