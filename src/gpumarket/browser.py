"""Headless Chromium driven by selenium, for the browser test (tests/web) and `make screenshot`.

Debian's `chromium` and `chromium-driver` (the Makefile's `browser` step installs them when missing);
selenium comes from the dev dependency group. Both paths are given to selenium, so its manager never
tries to download a browser or a driver.
"""

from __future__ import annotations

import os
import shutil


class BrowserMissing(RuntimeError):
    pass


def chromium(width: int = 1400, height: int = 1000):
    """A headless Chromium WebDriver (the caller quits it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        raise BrowserMissing("Debian's headless Chromium is missing: run 'make browser' (or, as root, "
                             "'apt-get install chromium chromium-driver').")
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium manager: never download anything
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-extensions", "--hide-scrollbars", f"--window-size={width},{height}",
                "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)
