"""Layering rule: `tfp_flows/surjections/` is pure TFP math (no Keras, no `tfp_flows.layers`)."""
import ast
import pathlib

FORBIDDEN = ("keras", "tf_keras", "tfp_flows.layers", "tfp_flows.models", "tfp_flows.experiments")


def imported_names(path):
  """Every module a file imports, and every `tf.keras` attribute it reads."""
  names = []
  for node in ast.walk(ast.parse(path.read_text(), str(path))):
    if isinstance(node, ast.Import):
      names += [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    elif isinstance(node, ast.Attribute) and node.attr == "keras":
      names.append("tf.keras")
  return names


def test_surjections_import_no_keras_and_no_layers():
  folder = pathlib.Path(__file__).resolve().parents[1] / "tfp_flows" / "surjections"
  files = sorted(folder.glob("*.py"))
  assert len(files) >= 10
  bad = [(f.name, name) for f in files for name in imported_names(f)
         if any(name == m or name.startswith(m + ".") for m in FORBIDDEN) or name == "tf.keras"]
  assert not bad, f"tfp_flows/surjections must stay pure TFP; found imports {bad}"
