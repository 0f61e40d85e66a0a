"""The package's layers import only downward (docs/architecture.md), and import stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "restorekit"

# layer -> restorekit modules it may import (besides itself and the base: errors, io, atomic, arrays)
ALLOWED = {
    "degradations": set(),
    "metrics": set(),
    "classical": {"infer", "degradations"},
    "infer": {"models"},
    "models": {"degradations", "infer"},
    "data": {"degradations"},
    "losses": set(),
    "train": {"data", "models", "losses", "metrics", "degradations", "api", "infer"},
    "api": {"models", "infer", "degradations"},
    "evaluate": {"api", "models", "classical", "deblurring", "degradations", "metrics", "infer"},
    "deblurring": {"api", "models", "degradations", "infer", "classical"},
    "export": {"models"},
    "atomic": set(),
    "arrays": set(),
    "outputs": set(),
}


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def test_layers_import_only_downward():
    bad = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        layer = rel.parts[1] if len(rel.parts) > 1 else ""
        if layer.endswith("__init__") or layer not in ALLOWED and layer not in {"cli", "demo", "__main__"}:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("restorekit."):
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("restorekit.")]
            for name in names:
                target = _layer(name)
                if target == "cli" and layer != "cli" and layer != "__main__":
                    bad.append(f"{rel} imports {name} (nothing imports cli)")
                if layer in ALLOWED and target not in ALLOWED[layer] | {layer, "errors", "io", "outputs", "atomic", "arrays"}:
                    bad.append(f"{rel} imports {name}")
    assert not bad, "\n".join(bad)


def test_import_is_light():
    code = "import sys, restorekit; print(sorted(m for m in ('torch', 'skimage', 'scipy', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
