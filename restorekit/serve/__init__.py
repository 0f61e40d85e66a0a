"""``restorekit serve``: a local web page to denoise and deblur images in the browser.

The app (:mod:`.app`) is a Starlette application; the framework is the optional extra
``web`` (``pip install 'restorekit[web]'``) and loads only here, never on ``import
restorekit``. The work itself runs in one worker thread (:mod:`.jobs`), one image at a
time, so that a queue of images does not oversubscribe the CPU cores.

>>> from restorekit.serve import create_app                      # doctest: +SKIP
>>> app = create_app(max_upload_mb=50)                           # doctest: +SKIP

Safety rules (docs/serve.md): bound to 127.0.0.1 by default; a request size limit; uploads
go only into a private folder (``tempfile.mkdtemp``, mode 0700) that is removed job by job
after the download or a timeout, and as a whole at shutdown; job ids are unguessable and
visible only to the browser session that made them.
"""

from __future__ import annotations

DEFAULT_MAX_UPLOAD_MB = 100.0

__all__ = ["DEFAULT_MAX_UPLOAD_MB", "create_app"]


def __getattr__(name: str):
    # The app imports Starlette: load it on first use only.
    if name == "create_app":
        from restorekit.serve.app import create_app

        return create_app
    raise AttributeError(f"module 'restorekit.serve' has no attribute {name!r}")
