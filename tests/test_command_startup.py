"""Commands start without the libraries and console modules only some pages or commands use, so that
``manage.py <command> --help`` stays quick (scripts/bench.py ``command_startup`` measures it; goal < 1 s)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.contrib import admin

ROOT = Path(__file__).resolve().parent.parent

#: Loaded where they are used (a PDF download, a spreadsheet, a browser test, a phone number parsed, a deadline
#: moved, a name transliterated, the API's schema), never by Django's start-up or a command's module.
HEAVY = (
    "weasyprint",
    "openpyxl",
    "playwright",
    "phonenumbers",
    "holidays",
    "anyascii",
    "drf_spectacular.openapi",
    "rest_framework.views",
)
#: The console: loaded with the URLs (config/urls.py), not at start-up.
CONSOLE = ("config.urls", "core.admin", "dsar.admin", "recordings.admin", "residency.admin")
OUR_APPS = ("core", "dsar", "recordings", "residency")


def _in_fresh_process(code: str) -> object:
    """What ``code`` (run after ``django.setup()`` in a new process) prints as JSON."""
    script = f"import json, sys\nimport django\ndjango.setup()\n{code}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_start_up_and_every_command_of_ours_leave_the_heavy_libraries_and_the_console_unloaded() -> None:
    loaded = _in_fresh_process(
        "from django.core.management import get_commands, load_command_class\n"
        f"apps = {OUR_APPS!r}\n"
        "commands = sorted(name for name, app in get_commands().items() if app in apps)\n"
        "for name in commands:\n"
        "    load_command_class(get_commands()[name], name)\n"
        "print(json.dumps({'commands': commands, 'modules': sorted(sys.modules)}))\n"
    )
    assert isinstance(loaded, dict)
    assert {"purge_recordings", "dsar_due", "load_catalog", "export_history"} <= set(loaded["commands"])
    unwanted = [
        module for module in loaded["modules"] if any(module == name or module.startswith(f"{name}.") for name in HEAVY + CONSOLE)
    ]
    assert unwanted == []


def test_the_admin_checks_still_check_every_model_admin_when_nothing_loaded_the_urls() -> None:
    found = _in_fresh_process(
        "from django.contrib import admin\n"
        "from django.core.checks import run_checks\n"
        "before = len(admin.site._registry)\n"
        "run_checks(tags=['admin'])\n"
        "print(json.dumps([before, sorted(model._meta.label for model in admin.site._registry)]))\n"
    )
    assert isinstance(found, list)
    before, checked = found
    assert before == 0
    # The same admins as the console's (the test suite's process has loaded its admin modules: tests/conftest.py).
    assert checked == sorted(model._meta.label for model in admin.site._registry)
    assert {"dsar.Request", "recordings.Recording", "residency.Account", "core.ApiKey", "auth.User"} <= set(checked)
