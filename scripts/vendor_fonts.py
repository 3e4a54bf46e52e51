"""Copy the web font from node_modules into static/vendor/ (run by `make vendor` after npm install).

Only the latin and latin-ext subsets (Danish and English) are kept, with their @font-face rules; the result is
committed, so `make run` and the Docker image need no npm."""

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "@fontsource-variable" / "source-sans-3"
TARGET = ROOT / "static" / "vendor" / "source-sans-3"
SUBSETS = ("latin", "latin-ext")
RULE = re.compile(r"/\* source-sans-3-(?P<subset>[a-z-]+)-wght-(?:normal|italic) \*/\n@font-face \{.*?\}\n?", re.S)


def main() -> None:
    if TARGET.exists():
        shutil.rmtree(TARGET)
    (TARGET / "files").mkdir(parents=True)
    rules = []
    for stylesheet in ("wght.css", "wght-italic.css"):
        for match in RULE.finditer((PACKAGE / stylesheet).read_text()):
            if match["subset"] in SUBSETS:
                rules.append(match.group(0))
    for rule in rules:
        name = re.search(r"url\(\./files/([^)]+)\)", rule).group(1)
        shutil.copyfile(PACKAGE / "files" / name, TARGET / "files" / name)
    version = re.search(r'"version": "([^"]+)"', (PACKAGE / "package.json").read_text()).group(1)
    header = f"/* @fontsource-variable/source-sans-3 {version}, {', '.join(SUBSETS)} (scripts/vendor_fonts.py) */\n"
    (TARGET / "source-sans-3.css").write_text(header + "\n".join(rule.rstrip("\n") + "\n" for rule in rules))
    shutil.copyfile(PACKAGE / "LICENSE", TARGET / "LICENSE")


if __name__ == "__main__":
    main()
