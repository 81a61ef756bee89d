"""Screenshot of the HTML article view for a tagger results JSONL (one article record per line).

The view is only useful if Persian renders right-to-left with real glyphs and the labels sit where
they should, which a test cannot see; this renders the page in headless Chromium so a person can.

Needs (Debian): ``apt-get install -y chromium fonts-noto-core`` -- without an Arabic-script font
(Noto Naskh Arabic, from fonts-noto-core; Debian 12 has no fonts-vazirmatn) the glyphs are boxes.

    python bench/screenshot_view.py tagged.jsonl docs/sample-view.png [--html page.html]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from parstag.inference.html_view import render_articles_html

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", type=Path, help="JSONL, one tagged article per line")
    ap.add_argument("png", type=Path, help="where the screenshot goes")
    ap.add_argument("--html", type=Path, help="also keep the rendered page here")
    ap.add_argument("--title", default="parstag: tagged articles")
    ap.add_argument("--size", default="1200,1400", help="window WIDTH,HEIGHT in pixels")
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles")
    args = ap.parse_args(argv)

    with args.results.open(encoding="utf-8") as f:
        results = [json.loads(line) for line in f if line.strip()]
    if args.limit:
        results = results[: args.limit]
    page = render_articles_html(results, args.title)

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        print("no chromium found: apt-get install -y chromium fonts-noto-core", file=sys.stderr)
        return 1
    probe = subprocess.run(["fc-list", ":lang=fa"], capture_output=True, text=True, check=False)
    if not probe.stdout.strip():
        print("warning: no font covers Persian (fc-list :lang=fa); install fonts-noto-core", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        html_path = Path(args.html) if args.html else Path(tmp) / "view.html"
        html_path.write_text(page, encoding="utf-8")
        args.png.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp}/profile", "--hide-scrollbars",
            f"--screenshot={args.png.resolve()}", f"--window-size={args.size}",
            html_path.resolve().as_uri(),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not args.png.is_file():
        print(done.stderr[-2000:], file=sys.stderr)
        return done.returncode or 1
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
