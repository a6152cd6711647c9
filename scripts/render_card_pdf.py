"""Render one Word card to PDF with LibreOffice and page 1 to PNG, to look at it as a provincial office
would print it (issue 19.2: A4, the margins of Decree 30/2020/NĐ-CP, Times New Roman, the table inside the
margins, Vietnamese diacritics). `make card-pdf`; default Bình Dương, PAPI 2020, in Vietnamese.

Needs LibreOffice Writer, poppler-utils and a Times New Roman or its metric twin Liberation Serif 2 (Debian:
`apt-get install -y libreoffice-writer-nogui poppler-utils fonts-liberation2`); they are not dependencies of
the project or of `make test`, only of this check. Liberation Serif has Times New Roman's widths, so the
layout is the one Word gives; version 1 (fonts-liberation) lacks the Vietnamese letters and LibreOffice then
draws them in another font: the script lists the PDF's fonts and exits 1 when any other font was used.

Writes to reports/cards/ (not published): <code>-<index>-<year>-<language>.docx, .pdf and -page1.png, and
prints the page count, the page size in mm and the fonts in the PDF."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {"soffice": "libreoffice-writer-nogui (or libreoffice-writer)", "pdftoppm": "poppler-utils",
         "pdfinfo": "poppler-utils", "pdffonts": "poppler-utils"}


def run(cmd: list[str], timeout: int = 300) -> str:
    """Run a command; its stdout, or exit with its stderr (a conversion that fails must not pass silently)."""
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} … failed ({done.returncode}):\n{done.stderr.strip()}")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--province", default="Bình Dương")
    parser.add_argument("--year", default="2020")
    parser.add_argument("--index", default="PAPI")
    parser.add_argument("--language", default="vi", choices=["vi", "en"])
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "cards")
    parser.add_argument("--dpi", type=int, default=80, help="resolution of the page-1 PNG")
    args = parser.parse_args(argv)
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
    if missing:
        print(f"render_card_pdf: needs {', '.join(missing)} (Debian: apt-get install -y "
              "libreoffice-writer-nogui poppler-utils fonts-liberation2); not part of `make test`", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    ascii_name = unicodedata.normalize("NFD", args.province.replace("đ", "d").replace("Đ", "D")).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{ascii_name}-{args.index}-{args.year}-{args.language}")
    docx = args.out / f"{stem}.docx"
    run([sys.executable, "-m", "analysis", "card", "--province", args.province, "--year", args.year,
         "--index", args.index, "--language", args.language, "--output", str(docx)])
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:  # a fresh profile: no lock, no dialogs
        run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
             "--outdir", str(args.out), str(docx)])
    pdf = docx.with_suffix(".pdf")
    run(["pdftoppm", "-r", str(args.dpi), "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
         str(args.out / f"{stem}-page1")])
    info = run(["pdfinfo", str(pdf)])
    pages = re.search(r"^Pages:\s+(\d+)", info, re.M)
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    fonts = sorted({line.split()[0].split("+")[-1] for line in run(["pdffonts", str(pdf)]).splitlines()[2:] if line})
    print(f"docx: {docx}\npdf:  {pdf}\npng:  {args.out / (stem + '-page1.png')}")
    if pages and size:
        w, h = (float(v) * 25.4 / 72 for v in size.groups())
        print(f"pages: {pages.group(1)}; page size: {w:.1f} x {h:.1f} mm (A4 is 210 x 297)")
    print(f"fonts in the PDF: {', '.join(fonts)}")
    others = [f for f in fonts if not f.startswith(("TimesNewRoman", "LiberationSerif", "OpenSymbol"))]
    if others:  # OpenSymbol: LibreOffice's stand-in for the bullets' Symbol font
        print(f"warning: LibreOffice drew some characters in {', '.join(others)}: the serif font here lacks them "
              "(fonts-liberation 1.x has no Vietnamese); install fonts-liberation2 or Times New Roman", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
