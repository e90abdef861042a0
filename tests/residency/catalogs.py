"""Copies of the shipped catalog with edits, for tests that load a changed catalog."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from django.conf import settings

CATALOG = Path(settings.RESIDENCY_CATALOG_PATH)
SHIPPED_VERSION = re.search(r'^version = "([^"]+)"$', CATALOG.read_text(), re.MULTILINE)[1]


def catalog_file(tmp_path: Path, *edits: tuple[str, str], count: int = 1, name: str = "catalog.toml") -> Path:
    """The shipped catalog with ``edits`` (each ``(old, new)``; every old text must be there, replaced ``count``
    times), written to ``tmp_path / name``. A version label belongs to one content: unless an edit names its
    own, the copy is labelled with the shipped version and a digest of its text (the same edits, the same label)."""
    text = CATALOG.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, count)
    shipped = f'version = "{SHIPPED_VERSION}"'
    if shipped in text and text != CATALOG.read_text():
        label = f"{SHIPPED_VERSION}+{hashlib.sha256(text.encode()).hexdigest()[:8]}"
        text = text.replace(shipped, f'version = "{label}"', 1)
    path = tmp_path / name
    path.write_text(text)
    return path


def version_of(path: Path) -> str:
    """The version label of the catalog file at ``path``."""
    return re.search(r'^version = "([^"]+)"$', path.read_text(), re.MULTILINE)[1]
