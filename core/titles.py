"""The titles of the console's pages, in the team's words rather than Django's ("Select request to change")."""

from __future__ import annotations

from typing import Any

from django.utils.text import capfirst


def object_title(obj: Any) -> str:
    """The title of ``obj``'s page: what it is and which one — "Request #12 · Erasure", "Phone line · Support
    (+46…)" — never Django's "Change request" above the object's name."""
    name = str(obj)
    kind = capfirst(obj._meta.verbose_name)
    if name.startswith("#"):  # "#12 Erasure": the number belongs with the kind
        number, _, rest = name.partition(" ")
        return f"{kind} {number} · {rest}" if rest else f"{kind} {number}"
    return f"{kind} · {name}"
