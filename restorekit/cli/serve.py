"""``restorekit serve``: a local web page to denoise and deblur images in the browser."""

from __future__ import annotations

import click

from restorekit.cli.app import app


@app.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address lets other machines use the page.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--max-upload-mb", type=click.FloatRange(min=0.001), default=100.0, show_default=True,
              metavar="MB", help="Largest upload accepted (image, reference and kernel together).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
def serve_command(host, port, max_upload_mb, open_browser):
    """Serve a local web page: drop images, denoise or deblur them, compare and download.

    The page compares before and after with a slider at full resolution (zoom with the
    wheel, drag to pan), measures PSNR/SSIM against a clean reference when one is given,
    and downloads each result in its input's format and bit depth. Uploads stay in a private
    temporary folder, removed after the download, after 30 minutes, or when the server
    stops (Ctrl-C). Needs the web extra: pip install 'restorekit[web]'.

    \b
    restorekit serve                      # http://127.0.0.1:8000
    restorekit serve --port 0 --open      # any free port, opened in the browser
    """
    from restorekit.errors import RestorekitError

    try:
        from restorekit.serve.server import serve
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("starlette", "uvicorn", "python_multipart"):
            raise RestorekitError(f"restorekit serve needs {exc.name}: pip install 'restorekit[web]'") from None
        raise

    def ready(url: str) -> None:
        click.echo(f"restorekit serve: open {url} (Ctrl-C stops the server and deletes every upload)")
        if host not in ("127.0.0.1", "localhost", "::1"):
            click.echo("warning: the page is reachable from other machines; anyone who can reach "
                       f"{host}:{port} can use it", err=True)
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    serve(host, port, max_upload_mb=max_upload_mb, on_ready=ready)
    click.echo("restorekit serve: stopped; every upload and result was deleted")
