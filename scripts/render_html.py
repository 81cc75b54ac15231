"""Render an HTML page to a PNG with headless Chromium, and check the PNG is not blank.

    python scripts/render_html.py PAGE.html OUT.png [--width 1400] [--height 2000]

Used to check the page `spacy rehearsal evaluate --html` writes the way a
browser shows it. Needs Chromium (Debian: `apt-get install chromium`) and
matplotlib or Pillow to read the PNG back. Exits non-zero, with one line, if
Chromium is missing or fails, or the screenshot is blank (one colour, or
almost all white).
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
MIN_INK = 0.002  # share of pixels that must be not white


def find_browser() -> Optional[str]:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def render(page: Path, out: Path, width: int = 1400, height: int = 2000, timeout: float = 120.0) -> None:
    """Screenshot `page` (the top `width` x `height` pixels) into the PNG `out`.

    RETURNS: nothing; raises RuntimeError naming what failed.
    """
    if not page.is_file():
        raise RuntimeError(f"{page}: no such file")
    browser = find_browser()
    if browser is None:
        raise RuntimeError(f"no Chromium found ({', '.join(BROWSERS)}): apt-get install chromium")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:  # a fresh profile: no state from other runs
        cmd = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={profile}", f"--screenshot={out.resolve()}", f"--window-size={width},{height}",
            page.resolve().as_uri(),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not out.is_file():
        raise RuntimeError(f"{browser} exited with {proc.returncode} and wrote no {out}: {proc.stderr.strip()[-500:]}")


def read_png(path: Path) -> Any:
    """The PNG's pixels as an array of floats in [0, 1], shape (height, width, channels)."""
    try:
        import matplotlib.image

        return matplotlib.image.imread(str(path))[..., :3]
    except ImportError:
        pass
    try:
        import numpy
        from PIL import Image
    except ImportError:
        raise RuntimeError("reading the PNG needs matplotlib or Pillow: pip install matplotlib") from None
    return numpy.asarray(Image.open(path).convert("RGB"), dtype=float) / 255.0


def check_not_blank(path: Path) -> float:
    """Raise RuntimeError if the PNG is one colour or almost all white. RETURNS the share of non-white pixels."""
    pixels = read_png(path)
    flat = pixels.reshape(-1, pixels.shape[-1])
    if (flat == flat[0]).all():
        raise RuntimeError(f"{path} is blank: every pixel has the same colour")
    ink = float((flat < 0.98).any(axis=1).mean())
    if ink < MIN_INK:
        raise RuntimeError(f"{path} is almost blank: {ink:.2%} of its pixels are not white")
    return ink


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("page", type=Path, help="The HTML page")
    parser.add_argument("out", type=Path, help="The PNG to write")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args(argv)
    try:
        render(args.page, args.out, args.width, args.height)
        ink = check_not_blank(args.out)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"✘ {e}", file=sys.stderr)
        return 1
    print(f"✔ Wrote {args.out} ({args.width}x{args.height}, {ink:.1%} of pixels not white)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
