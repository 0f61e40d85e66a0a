"""``restorekit serve`` in a real browser: Debian's chromium, headless, driven by Selenium.

Slow (a browser and a real server): ``make test-slow`` or
``pytest -m slow tests/test_serve_browser.py``. Needs ``apt-get install chromium
chromium-driver``; skipped where /usr/bin/chromium is absent. With
``RESTOREKIT_SCREENSHOT=docs/serve.png`` it also saves the page with a result there.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("uvicorn", reason="restorekit serve needs the web extra: pip install 'restorekit[web]'")
    from restorekit.serve.server import make_server

    server, sock, url = make_server("127.0.0.1", 0, max_upload_mb=5)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started and time.monotonic() < end:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield url
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def browser(tmp_path):
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("needs Debian's chromium and chromedriver: apt-get install chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium: pip install 'restorekit[test]'")

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1360,820", "--force-device-scale-factor=1",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def _wait(condition, timeout: float = 120, what: str = "the page"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _images(tmp_path: Path, size: int) -> tuple[Path, Path]:
    """A noisy 16-bit colour PNG and its clean 16-bit reference."""
    from skimage import data, transform

    import restorekit as rk

    clean = data.astronaut().astype(np.float32) / 255
    if size != clean.shape[0]:
        clean = transform.resize(clean, (size, size, 3), anti_aliasing=True).astype(np.float32)
    noisy = rk.degrade(clean, "gaussian:25", seed=0)
    rk.write_image(tmp_path / "astronaut-noisy.png", noisy, dtype=np.uint16)
    rk.write_image(tmp_path / "astronaut-clean.png", clean, dtype=np.uint16)
    return tmp_path / "astronaut-noisy.png", tmp_path / "astronaut-clean.png"


def _card(driver, index: int):
    return driver.find_elements("css selector", "#queue .card")[index]


def test_upload_restore_compare_download(server, browser, tmp_path):
    import restorekit as rk
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    screenshot = os.environ.get("RESTOREKIT_SCREENSHOT")
    noisy, clean = _images(tmp_path, 512 if screenshot else 192)
    d = browser
    d.get(server)
    _wait(lambda: d.find_element("id", "limit").text.endswith("MB"), 30, "the options")

    d.find_element("id", "files").send_keys(str(noisy))
    card = _wait(lambda: d.find_elements("css selector", "#queue .card"), 10, "the image's card")[0]
    card.find_element("css selector", ".ref-input").send_keys(str(clean))
    d.find_element("id", "ensemble").click()  # best quality: 8 flips/rotations
    d.find_element("id", "run").click()
    _wait(lambda: card.get_attribute("data-state") == "done", 180, "the result")
    assert "8 flips/rotations" in card.find_element("css selector", ".card-settings").text
    _wait(lambda: d.execute_script("return document.getElementById('img-after').naturalWidth") > 0, 30, "the preview")
    assert "PSNR" in d.find_element("id", "metrics").text
    psnr = d.find_element("id", "metrics").text

    # The comparison slider: the range input, then dragging the divider, move the cut.
    after = d.find_element("id", "img-after")
    clip = after.value_of_css_property("clip-path")
    split = d.find_element("id", "split")
    split.send_keys(Keys.HOME)
    assert split.get_attribute("value") == "0" and after.value_of_css_property("clip-path") != clip
    split.send_keys(Keys.END)
    ActionChains(d).drag_and_drop_by_offset(d.find_element("css selector", "#divider .handle"), -150, 0).perform()
    assert 0 < int(split.get_attribute("value")) < 1000
    # Zoom (button and wheel) and pan.
    level = d.find_element("id", "zoom-level")
    before_zoom = level.text
    d.find_element("id", "zoom-in").click()
    assert level.text != before_zoom
    ActionChains(d).scroll_to_element(d.find_element("id", "stage")).perform()
    transform = d.find_element("id", "canvas").value_of_css_property("transform")
    ActionChains(d).move_to_element_with_offset(d.find_element("id", "stage"), 100, 60) \
        .click_and_hold().move_by_offset(-80, -40).release().perform()
    assert d.find_element("id", "canvas").value_of_css_property("transform") != transform

    if screenshot:
        d.find_element("id", "zoom-fit").click()
        d.execute_script("const s = document.getElementById('split'); s.value = 500;"
                         "s.dispatchEvent(new Event('input'));")
        d.save_screenshot(screenshot)

    # Download: the input's format and bit depth; the server then forgets the job.
    d.find_element("id", "download").click()
    target = d.downloads / "astronaut-noisy-restored.png"
    # Chrome writes a temporary file first and renames it when the download is complete.
    _wait(lambda: target.is_file() and not any(p.suffix == ".crdownload" for p in d.downloads.iterdir()),
          30, f"the download (found: {[p.name for p in d.downloads.iterdir()]})")
    restored, info = rk.read_image(target)
    original, original_info = rk.read_image(noisy)
    assert info.dtype == original_info.dtype == np.uint16 and restored.shape == original.shape
    _wait(lambda: card.get_attribute("data-state") == "downloaded", 10, "the downloaded state")
    assert "PSNR" in psnr


def test_bad_and_oversized_files_show_a_message(server, browser, tmp_path):
    d = browser
    d.get(server)
    _wait(lambda: d.find_element("id", "limit").text.endswith("MB"), 30, "the options")
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    big = tmp_path / "huge.png"
    big.write_bytes(b"\0" * 6_000_000)  # over the server's 5 MB
    d.find_element("id", "files").send_keys(f"{bad}\n{big}")
    _wait(lambda: len(d.find_elements("css selector", "#queue .card")) == 2, 10, "two cards")
    d.find_element("id", "run").click()
    for index, needle in ((0, "notes.png"), (1, "limit of 5 MB")):
        card = _card(d, index)
        _wait(lambda: card.get_attribute("data-state") == "error", 30, f"card {index}'s error")
        message = card.find_element("css selector", ".card-msg").text
        assert needle in message, message
    # The deblur options: an uploaded kernel file is offered, and a missing one is a message.
    d.find_element("css selector", "input[name=task][value=deblur]").click()
    from selenium.webdriver.support.select import Select

    Select(d.find_element("id", "kernel")).select_by_value("file")
    d.find_element("css selector", "#queue .card .redo").click()
    _wait(lambda: "kernel file" in d.find_element("id", "message").text, 10, "the kernel message")

