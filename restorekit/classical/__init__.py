"""Classical restoration methods behind the Restorer protocol (see base.py).

Importing this package imports the method modules, whose ``@register_method`` decorators fill
the registry; they import scikit-image and bm3d only when a method runs, so this stays cheap.
"""

from restorekit.classical.base import ClassicalMethod, Restorer, get_method, list_methods, register_method

# The methods: a new method module is added here (tests/test_classical.py checks that none is left out).
from restorekit.classical import block_matching, filters, nlm, tv, wavelet  # noqa: F401

__all__ = ["ClassicalMethod", "Restorer", "get_method", "list_methods", "register_method"]
