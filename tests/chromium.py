"""Headless Chromium for the tests that look at pages (Debian's chromium and chromium-driver; `make test` installs them)."""
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None) or shutil.which("chromium")
CHROMEDRIVER = "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else shutil.which("chromedriver")
needs_chromium = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="no Chromium and chromedriver on this machine and no apt-get "
                                    "to install them (`make test` installs Debian's chromium and chromium-driver where apt-get exists)")


def start_chromium(page_load_timeout: int = 60):
    "A headless Chromium driven by selenium, 1400×1000."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(page_load_timeout)
    return driver


def wait_for(condition, timeout: float, what: str, every: float = 0.5):
    "Poll `condition` until it returns something true; fail naming `what` after `timeout` seconds."
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
