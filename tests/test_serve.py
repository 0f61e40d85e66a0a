"""``restorekit serve``: the web app through Starlette's test client (no browser, no socket)."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest

pytest.importorskip("starlette", reason="restorekit serve needs the web extra: pip install 'restorekit[web]'")
try:  # Starlette's test client runs on httpx2 (Starlette 1.x), or httpx (older, deprecated)
    import httpx2  # noqa: F401
except ImportError:
    pytest.importorskip("httpx", reason="Starlette's test client needs httpx2 (pip install 'restorekit[test]')")

from starlette.testclient import TestClient  # noqa: E402

import restorekit as rk  # noqa: E402
from restorekit.serve import process as serve_process  # noqa: E402
from restorekit.serve.app import COOKIE, create_app  # noqa: E402
from restorekit.serve.jobs import folder_is_private  # noqa: E402

HOSTS = ("testserver",)


@pytest.fixture
def calls(monkeypatch):
    """Record what the page asks the denoiser for (then denoise for real)."""
    seen = []
    real = serve_process._denoise

    def fake(image, sigma, strength, progress=None, model=None, ensemble=1):
        call = (sigma, strength) if model is None else (model, sigma, strength)
        seen.append(call if ensemble == 1 else (*call, f"x{ensemble}"))
        return real(image, sigma, strength, progress, model, ensemble)

    monkeypatch.setattr(serve_process, "_denoise", fake)
    return seen


@pytest.fixture
def app():
    app = create_app(max_upload_mb=1, allowed_hosts=HOSTS)
    yield app
    app.state.jobs.close()


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def _png(image: np.ndarray, dtype=np.uint8, fmt: str = ".png", tmp_path=None) -> bytes:
    path = tmp_path / f"img{fmt}"
    rk.write_image(path, image, dtype=dtype)
    return path.read_bytes()


def _wait(client, job_id: str, timeout: float = 120) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = client.get(f"/api/jobs/{job_id}")
        assert r.status_code == 200, r.text
        job = r.json()
        if job["state"] in ("done", "error"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def _submit(client, data: bytes, name: str = "noisy.png", **fields):
    files = {"image": (name, data, "application/octet-stream")}
    for key in ("reference", "kernel_file"):
        if key in fields:
            files[key] = fields.pop(key)
    return client.post("/api/jobs", files=files, data={"task": "denoise", **fields})


def test_page_and_assets_are_served_with_a_session_cookie(client):
    r = client.get("/")
    assert r.status_code == 200 and "restorekit" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert COOKIE in r.cookies
    for asset in ("app.js", "viewer.js", "style.css"):
        body = client.get(f"/static/{asset}").text
        assert client.get(f"/static/{asset}").status_code == 200
        assert "http://" not in body and "https://" not in body  # no CDN, nothing from elsewhere
    options = client.get("/api/options").json()
    assert options["max_upload_bytes"] == 1_000_000
    assert any(k["spec"] == "motion-15-45" for k in options["kernels"])


@pytest.mark.parametrize("dtype,fmt", [(np.uint8, ".png"), (np.uint16, ".png"), (np.uint16, ".tif"), (np.uint8, ".jpg")])
def test_denoise_round_trip_keeps_format_and_depth(client, calls, color_image, gray_image, tmp_path, dtype, fmt):
    image = gray_image if fmt == ".tif" else color_image
    noisy = rk.degrade(image, "gaussian:25", seed=0)
    data = _png(noisy, dtype, fmt, tmp_path)
    r = _submit(client, data, name=f"photo{fmt}", noise="gaussian", level="25", strength="1.5")
    assert r.status_code == 201, r.text
    job = _wait(client, r.json()["id"])
    assert job["state"] == "done", job
    assert calls == [(pytest.approx(25 / 255), 1.5)]
    assert job["width"] == image.shape[1] and job["bits"] == np.dtype(dtype).itemsize * 8

    for view in ("before", "after"):
        preview = client.get(f"/api/jobs/{job['id']}/{view}.png")
        assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    r = client.get(f"/api/jobs/{job['id']}/download")
    assert r.status_code == 200
    assert f"photo-restored{fmt}" in r.headers["content-disposition"]
    out = tmp_path / f"out{fmt}"
    out.write_bytes(r.content)
    restored, info = rk.read_image(out)
    original, original_info = rk.read_image(tmp_path / f"img{fmt}")
    assert info.dtype == original_info.dtype == dtype and info.format == original_info.format
    assert restored.shape == original.shape
    # Downloaded: the job and its files are gone.
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404
    assert client.get(f"/api/jobs/{job['id']}/download").status_code == 404
    assert list(client.app.state.jobs.root.iterdir()) == []


def test_modes_map_to_sigma(client, calls, gray_image, tmp_path):
    data = _png(gray_image, tmp_path=tmp_path)
    for noise in ("auto", "real"):
        job = _wait(client, _submit(client, data, noise=noise).json()["id"])
        assert job["state"] == "done"
    assert calls == [(None, 1.0), ("fastunet.gray-real", None, 1.0)]  # real photo: the real-noise model
    assert "fastunet.gray-real" in " ".join(job["notes"])
    job = _wait(client, _submit(client, data, noise="gaussian", level="10", ensemble="8").json()["id"])
    assert job["state"] == "done" and calls[-1] == (pytest.approx(10 / 255), 1.0, "x8")  # best quality


def test_psnr_with_reference(client, calls, color_image, tmp_path):
    noisy = rk.degrade(color_image, "gaussian:25", seed=0)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ref = ("clean.png", _png(color_image, tmp_path=tmp_path / "a"), "image/png")
    r = _submit(client, _png(noisy, tmp_path=tmp_path / "b"), noise="gaussian", level="25", reference=ref)
    job = _wait(client, r.json()["id"])
    m = job["metrics"]
    clean8 = rk.read_image(tmp_path / "a" / "img.png")[0]
    noisy8 = rk.read_image(tmp_path / "b" / "img.png")[0]
    assert m["psnr_before"] == pytest.approx(rk.psnr(clean8, noisy8), abs=1e-6)
    assert m["psnr_after"] > m["psnr_before"] + 2
    assert 0 < m["ssim_before"] < m["ssim_after"] <= 1


def test_reference_of_another_size_is_refused(client, calls, color_image, gray_image, tmp_path):
    (tmp_path / "a").mkdir()
    ref = ("clean.png", _png(gray_image, tmp_path=tmp_path / "a"), "image/png")
    r = _submit(client, _png(color_image, tmp_path=tmp_path), reference=ref)
    assert r.status_code == 400 and "clean.png" in r.json()["error"] and "same size" in r.json()["error"]


def test_deblur_with_a_listed_and_an_uploaded_kernel(client, gray_image, tmp_path):
    blurred = rk.degrade(gray_image, "blur:gaussian-1.0+gaussian:1", seed=0)
    data = _png(blurred, tmp_path=tmp_path)
    r = client.post("/api/jobs", files={"image": ("b.png", data)}, data={"task": "deblur", "kernel": "gaussian-1.0"})
    assert r.status_code == 201, r.text
    assert _wait(client, r.json()["id"])["state"] == "done"

    buf = io.BytesIO()
    np.save(buf, np.ones((3, 3), np.float32))
    r = client.post("/api/jobs", files={"image": ("b.png", data), "kernel_file": ("box.npy", buf.getvalue())},
                    data={"task": "deblur"})
    assert r.status_code == 201, r.text
    assert _wait(client, r.json()["id"])["state"] == "done"


@pytest.mark.parametrize("fields,needle", [
    ({"task": "deblur", "kernel": "/etc/passwd.npy"}, "upload a kernel file"),
    ({"task": "deblur", "kernel": "wobble-3"}, "unknown kernel"),
    ({"task": "denoise", "strength": "3"}, "strength must be between 0 and 2"),
    ({"task": "denoise", "ensemble": "3"}, "ensemble must be 1, 2, 4 or 8"),
    ({"task": "denoise", "noise": "gaussian", "level": "x"}, "noise level must be a number"),
    ({"task": "sharpen"}, "unknown task"),
])
def test_bad_settings_are_one_line_400s(client, gray_image, tmp_path, fields, needle):
    r = client.post("/api/jobs", files={"image": ("a.png", _png(gray_image, tmp_path=tmp_path))}, data=fields)
    assert r.status_code == 400 and needle in r.json()["error"]


@pytest.mark.parametrize("data", [b"this is not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b""])
def test_bad_file_is_a_message_not_a_500(client, data):
    r = _submit(client, data, name="notes.png")
    assert r.status_code == 400
    error = r.json()["error"]
    assert "notes.png" in error or "no image" in error
    assert "restorekit-serve" not in error  # never our private folder's path
    assert list(client.app.state.jobs.root.iterdir()) == []


def test_too_large_is_413_and_nothing_is_kept(client):
    big = b"\0" * 1_100_000
    r = _submit(client, big)
    assert r.status_code == 413 and "1 MB" in r.json()["error"]
    # without a declared length too (chunked): counted while streaming
    body = iter([b"--x\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n", big, b"\r\n--x--\r\n"])
    r = client.post("/api/jobs", content=body, headers={"content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413
    assert list(client.app.state.jobs.root.iterdir()) == []


def test_another_session_cannot_see_a_job(app, calls, gray_image, tmp_path):
    with TestClient(app) as alice, TestClient(app) as bob:
        r = _submit(alice, _png(gray_image, tmp_path=tmp_path))
        job_id = r.json()["id"]
        assert len(job_id) >= 32
        _wait(alice, job_id)
        for path in ("", "/before.png", "/download"):
            assert bob.get(f"/api/jobs/{job_id}{path}").status_code == 404
        assert bob.delete(f"/api/jobs/{job_id}").status_code == 404
        assert bob.get("/api/jobs").json()["jobs"] == []
        forged = TestClient(app, cookies={COOKIE: "x" * 43})
        assert forged.get(f"/api/jobs/{job_id}").status_code == 404
        assert [j["id"] for j in alice.get("/api/jobs").json()["jobs"]] == [job_id]
        assert alice.delete(f"/api/jobs/{job_id}").status_code == 204
        assert alice.get(f"/api/jobs/{job_id}").status_code == 404


def test_unknown_host_is_refused(app):
    with TestClient(app, base_url="http://evil.example") as c:
        r = c.get("/")
    assert r.status_code == 400 and "Host" in r.json()["error"]


def test_private_folder_queue_order_and_cleanup(monkeypatch, gray_image, tmp_path):
    order = []

    def slow(job, report):
        report("working", 0.5)
        order.append(job.name)
        time.sleep(0.2)
        job.result_path = None

    app = create_app(allowed_hosts=HOSTS, process_job=slow, ttl_s=0.3)
    root = app.state.jobs.root
    assert folder_is_private(root) and root.name.startswith("restorekit-serve-")
    with TestClient(app) as c:
        data = _png(gray_image, tmp_path=tmp_path)
        ids = [_submit(c, data, name=f"{i}.png").json()["id"] for i in range(3)]
        assert c.get(f"/api/jobs/{ids[2]}").json()["ahead"] >= 1
        assert all(folder_is_private(root / i) for i in ids)
        _wait(c, ids[2])
        assert order == ["0.png", "1.png", "2.png"]
        time.sleep(0.4)
        app.state.jobs.sweep()  # finished more than ttl_s ago: removed
        assert c.get(f"/api/jobs/{ids[0]}").status_code == 404 and list(root.iterdir()) == []
        _submit(c, data)
    assert not root.exists()  # shutdown removes everything


def test_strength_reaches_the_library(gray_image):
    noisy = rk.degrade(gray_image, "gaussian:25", seed=0)
    seen = []
    none, full = (serve_process._denoise(noisy, 25 / 255, s, progress=lambda *a: seen.append(a)) for s in (0.0, 1.0))
    assert none.shape == full.shape == noisy.shape
    assert np.abs(none - noisy).max() < np.abs(full - noisy).max()  # strength 0 keeps the input (or near)


def test_import_restorekit_does_not_load_the_framework():
    import subprocess
    import sys

    code = ("import sys, restorekit, restorekit.cli.main, restorekit.serve; "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'python_multipart') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_serve_reports_a_busy_port(run_cli):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        code, out, err = run_cli("serve", "--port", str(s.getsockname()[1]))
    assert code == 1 and "cannot listen on 127.0.0.1" in err and "--port" in err
