"""restorekit's modules form an order: each imports only from its own rank or lower.

Every module under restorekit/ is parsed with ``ast``; every import is checked, at any depth
(inside functions, under ``if TYPE_CHECKING``, relative forms such as ``from ..infer import x``).
An import of a higher rank fails with one line per offence, e.g. adding

    from restorekit.evaluate import evaluate      # inside a function of restorekit/models/dncnn.py

makes ``test_no_module_imports_upward`` fail with

    restorekit/models/dncnn.py:NN imports restorekit.evaluate (rank 7 > rank 3)

A module that is not in ``RANKS`` fails with "unranked module X: add it to RANKS". Edit the
table below to move a module; ``restorekit/__init__.py`` is exempt (it maps public names
lazily), and ``from restorekit import name`` counts as an import of the module that defines
``name`` there. Not seen: ``importlib.import_module`` with a computed name.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

# Bottom to top: a module may import from its own rank or lower.
RANKS = {
    "restorekit.errors": 0, "restorekit.atomic": 0, "restorekit.arrays": 0, "restorekit.allocator": 0,
    "restorekit.weights": 0,  # package data: the shipped .safetensors files
    "restorekit.estimate": 1, "restorekit.metrics": 1, "restorekit.io": 1, "restorekit.seeds": 1,
    "restorekit.degradations": 2, "restorekit.identify": 2,
    "restorekit.models": 3, "restorekit.losses": 3, "restorekit.data": 3,
    "restorekit.classical": 4,
    "restorekit.infer": 5,
    "restorekit.deblurring": 6, "restorekit.train": 6, "restorekit.export": 6,
    "restorekit.evaluate": 7,
    "restorekit.outputs": 8, "restorekit.files": 8, "restorekit.demo": 8, "restorekit.serve": 8,
    "restorekit.tasks": 8, "restorekit.parallel": 8, "restorekit.cluster": 8,  # the file loop's work and engines
    "restorekit.cli": 9, "restorekit.__main__": 9,  # `python -m restorekit` runs the CLI
}

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "restorekit"


def _is_module(name: str) -> bool:
    if name in RANKS:  # the table names modules, whether or not they exist yet
        return True
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _public_names() -> dict[str, str]:
    """restorekit/__init__.py's ``_API``: public name -> module that defines it."""
    for node in ast.walk(ast.parse((PACKAGE / "__init__.py").read_text())):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_API" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def _layer(name: str) -> str:
    """The entry of RANKS that ``name`` (a module, or a name inside one) belongs to."""
    return ".".join(name.split(".")[:2])


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """``(line, restorekit module)`` for every import of restorekit in ``source``, at any depth."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: "from . import x", "from ..infer import y"
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:
                if target == "restorekit" and not _is_module(f"restorekit.{alias.name}"):
                    # a public name: the module that defines it (e.g. __version__: the package)
                    found.append((node.lineno, _public_names().get(alias.name, "restorekit")))
                elif target == "restorekit":
                    found.append((node.lineno, f"restorekit.{alias.name}"))
                else:
                    found.append((node.lineno, target))
    return [(line, name) for line, name in found if name == "restorekit" or name.startswith("restorekit.")]


def violations(source: str, module: str, filename: str, is_package: bool = False) -> list[str]:
    """One line per upward import of ``source`` (the text of ``module``, shown as ``filename``)."""
    own = RANKS.get(_layer(module))
    if own is None:
        return [f"unranked module {module}: add it to RANKS"]
    bad = []
    for line, name in imported_modules(source, module, is_package):
        if name == "restorekit":  # the package itself, e.g. __version__: imports nothing
            continue
        rank = RANKS.get(_layer(name))
        if rank is None:
            bad.append(f"{filename}:{line} imports unranked module {_layer(name)}: add it to RANKS")
        elif rank > own:
            bad.append(f"{filename}:{line} imports {_layer(name)} (rank {rank} > rank {own})")
    return bad


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel == Path("restorekit/__init__.py"):
            continue  # exempt: it maps the public names lazily
        parts = rel.with_suffix("").parts
        is_package = parts[-1] == "__init__"
        yield path, ".".join(parts[:-1] if is_package else parts), is_package


def test_no_module_imports_upward():
    bad = []
    for path, module, is_package in _modules():
        bad += violations(path.read_text(), module, str(path.relative_to(ROOT)), is_package)
    assert not bad, "upward imports (see RANKS in tests/test_layering.py):\n" + "\n".join(bad)


def test_the_checker_finds_an_upward_import():
    source = (
        "import torch\n"
        "from restorekit.models.layers import conv3x3\n"  # own rank
        "from restorekit.errors import RestorekitError\n"  # lower
        "def forward(x):\n"
        "    from restorekit.evaluate import evaluate\n"  # upward, inside a function
        "    from ..infer import tiling\n"  # upward, relative
        "    from restorekit import deblur\n"  # upward, through the lazy public API
        "    from . import layers\n"  # own package, relative
        "    return evaluate(x)\n"
    )
    assert violations(source, "restorekit.models.dncnn", "restorekit/models/dncnn.py") == [
        "restorekit/models/dncnn.py:5 imports restorekit.evaluate (rank 7 > rank 3)",
        "restorekit/models/dncnn.py:6 imports restorekit.infer (rank 5 > rank 3)",
        "restorekit/models/dncnn.py:7 imports restorekit.deblurring (rank 6 > rank 3)",
    ]
    # the same source one level higher up the order is fine, but for evaluate (7 > 6)
    assert len(violations(source, "restorekit.train.trainer", "t.py")) == 1


def test_the_checker_resolves_relative_imports_in_a_package():
    source = "from . import layers\nfrom .. import evaluate\n"
    assert violations(source, "restorekit.models", "restorekit/models/__init__.py", is_package=True) == [
        "restorekit/models/__init__.py:2 imports restorekit.evaluate (rank 7 > rank 3)"]


def test_unranked_modules_fail():
    assert violations("", "restorekit.newthing", "x.py") == [
        "unranked module restorekit.newthing: add it to RANKS"]
    assert violations("from restorekit.newthing import f\n", "restorekit.evaluate", "a.py") == [
        "a.py:1 imports unranked module restorekit.newthing: add it to RANKS"]


def test_import_is_light():
    code = "import sys, restorekit; print(sorted(m for m in ('torch', 'skimage', 'scipy', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
