"""Who calls what in the product's own code, read from its source (no import, no run): enough to find every
function from which a given one can be reached, so that a test can say "these are the only doors to X".

A function is a module-level function or a method, written ``module:Qual.name``; what a nested function or a
lambda refers to counts for the function it is written in. A reference is resolved as Python would find it
where that is plain from the source: a name to the module's own function or to what it imports (through
re-exports), ``module.name`` to that module's, ``self.name``/``cls.name`` to the class's own method or, failing
that, any method of that name in the module. ``something.name`` on any other object may be any method of that
name in the product (over-counting is safe here: it can only add doors), unless builtin types or the framework's
classes have a method of that name (``rows.extend``, ``data.get``, ``queryset.update``): then it is theirs.
Framework dispatch (a URL pattern, an admin action or display listed by name, a form's ``clean``) and references
outside any function (a class attribute, ``urlpatterns``) are not calls: the function they reach has no caller
here, and so is a door. A sender reached through a module-level alias (``notify = send_mail``) is not seen.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Names that send mail on whatever object they are reached through.
MAIL_NAMES = frozenset(
    {"send_mail", "send_mass_mail", "mail_admins", "mail_managers", "send_messages"}
    | {"EmailMessage", "EmailMultiAlternatives"}
)
APPS = ("config", "residency", "dsar", "recordings", "core")


@dataclass
class Module:
    name: str
    imports: dict[str, str] = field(default_factory=dict)  # local name -> "module:name" or "module:" (a module)
    functions: set[str] = field(default_factory=set)  # qualnames of module-level functions and methods
    methods: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # class -> method names


def product_modules() -> Iterator[tuple[str, Path]]:
    """The product's modules (migrations aside) by dotted name, with their files."""
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _module_of(current: str, package: bool, node: ast.ImportFrom) -> str:
    """The module an ``import from`` names, relative ones resolved from ``current`` (a ``package``'s __init__)."""
    if not node.level:
        return node.module or ""
    parts = current.split(".")
    base = parts[: len(parts) - node.level + (1 if package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


@cache
def framework_names() -> frozenset[str]:
    """The method names of builtin types and of the framework classes the product's classes build on."""
    from django import forms
    from django.contrib import admin
    from django.core.management.base import BaseCommand
    from django.db import models
    from django.http import HttpRequest, HttpResponse
    from rest_framework import generics, serializers

    types = [list, dict, set, frozenset, str, bytes, tuple, int, models.QuerySet, models.Manager, models.Model]
    types += [admin.ModelAdmin, admin.TabularInline, BaseCommand, forms.ModelForm, serializers.ModelSerializer]
    types += [generics.ListCreateAPIView, generics.RetrieveUpdateDestroyAPIView, HttpRequest, HttpResponse]
    return frozenset(name for kind in types for name in dir(kind))


class CallGraph:
    def __init__(self) -> None:
        self.modules: dict[str, Module] = {}
        self.trees: dict[str, ast.Module] = {}
        for name, path in product_modules():
            self.trees[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            self.modules[name] = self._index(name, self.trees[name], package=path.name == "__init__.py")
        self.method_names: dict[str, set[str]] = defaultdict(set)  # method name -> "module:Class.name"
        for module in self.modules.values():
            for cls, names in module.methods.items():
                for method in names:
                    self.method_names[method].add(f"{module.name}:{cls}.{method}")
        self.refs: dict[str, set[str]] = {}  # function -> what it refers to ("module:qual", or external "pkg.mod:name")
        for name, tree in self.trees.items():
            self._collect(name, tree)

    # --- indexing -------------------------------------------------------------------------------

    def _index(self, name: str, tree: ast.Module, package: bool) -> Module:
        module = Module(name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    # "import a.b" binds "a"; "import a.b as c" binds "c" to a.b.
                    bound = alias.name if alias.asname else alias.name.split(".")[0]
                    module.imports[alias.asname or bound] = f"{bound}:"
            elif isinstance(node, ast.ImportFrom):
                source = _module_of(name, package, node)
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = f"{source}:{alias.name}"

        def visit(body: Iterable[ast.stmt], prefix: str) -> None:
            for node in body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    module.functions.add(prefix + node.name)
                    if prefix:
                        module.methods[prefix[:-1]].add(node.name)
                elif isinstance(node, ast.ClassDef):
                    visit(node.body, f"{prefix}{node.name}.")

        visit(tree.body, "")
        return module

    def resolve(self, module: str, name: str, seen: frozenset[str] = frozenset()) -> str:
        """``module:name`` as defined, following imports and re-exports; ``pkg.mod:name`` when outside the product,
        ``pkg.mod:`` for a module."""
        key = f"{module}:{name}"
        mod = self.modules.get(module)
        if mod is None or key in seen:
            return key
        if name in mod.functions or name in mod.methods:
            return key
        target = mod.imports.get(name)
        if target is None:
            return key
        target_module, _, target_name = target.partition(":")
        if not target_name:
            return f"{target_module}:"
        if f"{target_module}.{target_name}" in self.modules:  # "from pkg import module"
            return f"{target_module}.{target_name}:"
        return self.resolve(target_module, target_name, seen | {key})

    # --- references -----------------------------------------------------------------------------

    def _collect(self, module: str, tree: ast.Module) -> None:
        def visit(body: Iterable[ast.stmt], cls: str | None) -> None:
            for node in body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    qual = f"{cls}.{node.name}" if cls else node.name
                    self.refs[f"{module}:{qual}"] = set(self._references(module, cls, node))
                elif isinstance(node, ast.ClassDef):
                    visit(node.body, f"{cls}.{node.name}" if cls else node.name)

        visit(tree.body, None)

    def _references(self, module: str, cls: str | None, function: ast.AST) -> Iterator[str]:
        mod = self.modules[module]
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                yield self.resolve(module, node.id)
            elif isinstance(node, ast.Attribute):
                owner = node.value
                if isinstance(owner, ast.Name) and owner.id in ("self", "cls") and cls:
                    if node.attr in mod.methods.get(cls, ()):
                        yield f"{module}:{cls}.{node.attr}"
                    else:
                        yield from (f"{module}:{c}.{node.attr}" for c, names in mod.methods.items() if node.attr in names)
                    continue
                if node.attr in ("sign", "sign_object"):  # a signer's signature, whatever the signer's name
                    yield "django.core.signing:sign"
                if node.attr in MAIL_NAMES:  # django.core.mail.send_mail, connection.send_messages…
                    yield f"django.core.mail:{node.attr}"
                if isinstance(owner, ast.Name):
                    target = self.resolve(module, owner.id)
                    if target.endswith(":"):  # a module: its function
                        yield self.resolve(target[:-1], node.attr) if target[:-1] in self.modules else target + node.attr
                        continue
                    if target.partition(":")[0] not in self.modules:  # "from django.core import signing"
                        yield target.replace(":", ".") + ":" + node.attr
                        continue
                # Any other object: any product method of that name, unless the name is a builtin's or the framework's.
                if node.attr not in framework_names():
                    yield from self.method_names.get(node.attr, ())

    # --- queries --------------------------------------------------------------------------------

    def using(self, targets: set[str]) -> set[str]:
        """The product's functions that refer directly to one of ``targets``."""
        return {function for function, refs in self.refs.items() if refs & targets}

    def callers(self) -> dict[str, set[str]]:
        reverse: dict[str, set[str]] = defaultdict(set)
        for function, refs in self.refs.items():
            for ref in refs:
                reverse[ref].add(function)
        return reverse

    def doors(self, targets: set[str], stop: Iterable[str] = ()) -> dict[str, set[str]]:
        """Each function from which one of ``targets`` can be reached and that nothing in the product calls (it is
        reached by the framework: a URL, an action, a command), or that is in ``stop``; with the targets it reaches."""
        callers, stop = self.callers(), set(stop)
        frontier = [(target, target) for target in targets]
        seen: set[tuple[str, str]] = set()
        doors: dict[str, set[str]] = defaultdict(set)
        while frontier:
            function, target = frontier.pop()
            if (function, target) in seen:
                continue
            seen.add((function, target))
            above = callers.get(function, set()) - {function}
            if function in stop or not above:
                doors[function].add(target)
                continue
            frontier.extend((caller, target) for caller in above)
        return dict(doors)
