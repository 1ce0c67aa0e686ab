"""Headless Chromium for tests of pages: Debian's /usr/bin/chromium driven by Playwright.

Playwright never downloads a browser here: it launches the system Chromium (`.ci/run` installs it
with apt-get when it is missing). Every request a page makes is recorded, so a test can check
that a page fetches nothing.

    python -m tests.browser PAGE.html SCREENSHOT.png [--width 1280 --height 1000]   # a 256-colour PNG
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CHROMIUM = Path(os.environ.get("INSPECTION_THEMES_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium tries to reach Google's services at start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing_browser() -> str | None:
    """Why no page can be rendered here, or None when Chromium and Playwright are both available."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium` (.ci/run does when it can)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[test]'"
    return None


@contextmanager
def open_page(path: Path, width: int = 1280, height: int = 1000) -> Iterator[tuple[object, list[str]]]:
    """A page showing the file at `path`, and the list of every URL it has requested so far."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": width, "height": height},
            )
            try:
                page = context.new_page()
                requests: list[str] = []
                page.on("request", lambda request: requests.append(request.url))
                page.goto(Path(path).resolve().as_uri())
                yield page, requests
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Screenshot (the first screen of) an HTML file in headless Chromium.")
    parser.add_argument("page", type=Path)
    parser.add_argument("screenshot", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1000)
    options = parser.parse_args()
    reason = missing_browser()
    if reason:
        raise SystemExit(reason)
    with open_page(options.page, options.width, options.height) as (page, _):
        image = page.screenshot()
    from PIL import Image

    # A 256-colour palette keeps a page screenshot (flat colours, text) small enough for a README.
    Image.open(io.BytesIO(image)).convert("RGB").quantize(256).save(options.screenshot, optimize=True)


if __name__ == "__main__":
    main()
