"""Validate deploy/z2jh/values.yaml against the Zero to JupyterHub chart's values schema.

    helm pull jupyterhub/jupyterhub --version <chart version> --untar   # gives jupyterhub/
    python deploy/z2jh/check_values.py jupyterhub/values.schema.json jupyterhub/values.yaml

Helm validates the chart's defaults merged with ours, and so does this (jsonschema and
pyyaml, both in the test extra). The chart's repository keeps the same schema as
jupyterhub/values.schema.yaml; either file works.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import jsonschema
import yaml

OURS = Path(__file__).resolve().parent / "values.yaml"


def merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    schema = yaml.safe_load(Path(argv[0]).read_text())  # JSON is YAML
    defaults = yaml.safe_load(Path(argv[1]).read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(merge(defaults, yaml.safe_load(OURS.read_text()))))
    for e in errors:
        print(f"{'.'.join(map(str, e.path)) or '(top)'}: {e.message}")
    print(f"{OURS.name}: {len(errors)} schema errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
