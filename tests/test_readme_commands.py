"""Every `tfp-flows` command README.md shows parses with the current CLI and passes the study's
option checks (`runner.prepare`: no task runs, nothing is trained or fetched)."""
import itertools
import os
import re

import pytest

from experiments import STUDIES, runner
from tfp_flows import cli

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
PLACEHOLDERS = {"DIR": "out", "N": "2", "K": "2", "L": "0.5"}


def commands(text):
  """The `tfp-flows reproduce|report|data ...` templates in `text` (table cells unescaped)."""
  return [c.replace("\\|", "|").strip()
          for c in re.findall(r"tfp-flows ((?:reproduce|report|data) (?:[^`\n\\]|\\\|)*)", text)]


def expand(template):
  """Argv lists of one template: every `[optional]` part in, and each `a|b` word at each choice.

  `...` ("more of these") is dropped; DIR, N, K and L become a value.
  """
  words = [w for w in re.sub(r"[\[\]]", " ", template).split() if w != "..."]
  words = [[PLACEHOLDERS.get(a, a) for a in w.split("|")] for w in words]
  longest = max(len(w) for w in words)
  return [[w[min(i, len(w) - 1)] for w in words] for i in range(longest)]


def test_expand_reads_optional_parts_and_alternatives():
  assert expand("reproduce iflow [--preset quick|paper] [--models a ...] [--out DIR]") == [
      ["reproduce", "iflow", "--preset", "quick", "--models", "a", "--out", "out"],
      ["reproduce", "iflow", "--preset", "paper", "--models", "a", "--out", "out"]]


def test_every_readme_command_parses_and_passes_the_option_checks(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)  # the studies' default --out (runs/<study>) is read here
  found = commands(open(README).read())
  studies = {c.split()[1] for c in found if c.startswith("reproduce")}
  assert studies == set(STUDIES), f"README lacks a command for {set(STUDIES) - studies}"
  assert any(c.startswith("report") for c in found) and any(c.startswith("data") for c in found)
  for argv in itertools.chain.from_iterable(expand(c) for c in found):
    args, rest = cli.parser().parse_known_args(argv)  # SystemExit for a wrong command
    if args.command == "reproduce":
      runner.prepare(runner.load_study(args.study), rest)
    else:
      assert not rest, f"{argv}: unrecognized {rest}"
  assert not os.listdir(tmp_path)  # nothing ran


def test_reproduce_study_help_lists_the_study_options(capsys):
  with pytest.raises(SystemExit) as stop:
    cli.main(["reproduce", "energy", "--help"])
  assert stop.value.code == 0
  shown = capsys.readouterr().out
  assert "tfp-flows reproduce energy" in shown
  for option in ("--preset", "--workers", "--targets", "--models"):
    assert option in shown, shown
