"""Writes a benchmark's section of docs/benchmarks.md (shared by the scripts in benchmarks/)."""
import os
import re

PATH = os.path.join(os.path.dirname(__file__), "..", "docs", "benchmarks.md")


def write_section(name, text, path=PATH):
  """Replaces (or appends) the section between this benchmark's markers in docs/benchmarks.md."""
  begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
  old = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
  block = f"{begin}\n{text}{end}"
  pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
  new = pattern.sub(lambda _: block, old) if pattern.search(old) else old.rstrip() + "\n\n" + block + "\n"
  with open(path, "w") as f:
    f.write(new)
