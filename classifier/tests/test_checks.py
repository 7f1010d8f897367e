"""System checks: NSFW_DETECTION without its detector stops commands at start, clearly."""

import os
import subprocess
import sys

import pytest

# Python's own way to say a package is absent: `import nudenet` raises ImportError and
# importlib.util.find_spec answers None.
WITHOUT_NUDENET = "import sys; sys.modules['nudenet'] = None;"


def manage(settings, command: str, *, nsfw: bool, prelude: str = "") -> subprocess.CompletedProcess:
    code = (
        f"{prelude}from django.core.management import execute_from_command_line;"
        f"execute_from_command_line(['manage.py', '{command}'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "memesense_site.settings",
        "NSFW_DETECTION": "1" if nsfw else "0",
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", ["check", "qcluster"])
def test_nsfw_detection_without_nudenet_stops_the_command_with_the_fix(settings, command):
    result = manage(settings, command, nsfw=True, prelude=WITHOUT_NUDENET)
    assert result.returncode != 0
    assert "classifier.E001" in result.stderr
    assert "nudenet" in result.stderr and "requirements-nsfw.txt" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_check_passes_with_nudenet_installed_or_detection_off(settings):
    assert manage(settings, "check", nsfw=True).returncode == 0
    assert manage(settings, "check", nsfw=False, prelude=WITHOUT_NUDENET).returncode == 0
