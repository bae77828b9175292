#!/usr/bin/env python3
"""Pin an image digest in the catalogue: replace app.tag (or app.digest) with app.digest.

The release workflow runs this after pushing the image; scripts/test.sh runs it on the
live catalogue (then restores it) to prove the test suite survives a release.
Usage: pin-digest.py sha256:<64 hex> [catalogue.yaml]
"""
import re
import sys


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    digest = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) == 3 else "catalogue.yaml"
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        sys.exit(f"unexpected image digest {digest!r}")
    lines = open(path, encoding="utf-8").read().splitlines(keepends=True)
    in_app, indent, done = False, None, False
    for i, line in enumerate(lines):
        if re.match(r"^\S", line):
            in_app = line.startswith("app:")
            continue
        if not in_app or not line.strip() or line.lstrip().startswith("#"):
            continue
        if indent is None:
            indent = line[: len(line) - len(line.lstrip())]  # app's own keys
        m = re.match(r"^(\s+)(tag|digest):(\s*)\S.*?(\s*#.*)?$", line.rstrip("\n"))
        if m and m.group(1) != indent:
            m = None  # a nested key, not app.tag / app.digest
        if m and not done:
            comment = m.group(4) or ""
            lines[i] = f'{m.group(1)}digest: "{digest}"{comment}\n'
            done = True
        elif m:
            lines[i] = ""  # exactly one of tag and digest
    if not done:
        sys.exit(f"{path}: no app.tag or app.digest line to replace")
    open(path, "w", encoding="utf-8").write("".join(lines))


if __name__ == "__main__":
    main()
