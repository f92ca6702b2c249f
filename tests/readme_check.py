#!/usr/bin/env python3
"""Keeps README.md true: every ```cpp block in it is a verbatim part of a
program in examples/ (each built and run by ctest as example.NAME), and
every example is listed in the README's index.

Usage: readme_check.py SOURCE_DIR. Exits 1 naming what does not match.
"""
import pathlib
import re
import sys


def lines(text):
    # Spacing may differ (a README block shows the body of main at column 0,
    # clang-format aligns comments); every word must be equal.
    return [" ".join(line.split()) for line in text.strip("\n").split("\n")]


def contains(haystack, needle):
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def main():
    root = pathlib.Path(sys.argv[1])
    readme = (root / "README.md").read_text()
    examples = {p.name: lines(p.read_text()) for p in sorted((root / "examples").glob("*.cpp"))}
    blocks = re.findall(r"^```cpp\n(.*?)^```", readme, re.S | re.M)
    failures = []
    if not blocks:
        failures.append("README.md has no ```cpp block")
    for block in blocks:
        want = lines(block)
        if not any(contains(have, want) for have in examples.values()):
            failures.append("this README block is in no examples/*.cpp (word for word, spacing "
                            "aside):\n    " + "\n    ".join(want[:6]) + "\n    ...")
    for name in examples:
        if f"examples/{name}" not in readme:
            failures.append(f"examples/{name} is missing from the README's examples index")
    for f in failures:
        print("readme_check:", f)
    print(f"readme_check: {len(blocks)} C++ blocks, {len(examples)} examples: "
          + ("FAILED" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
