"""The install files agree: pyproject.toml, constraints.txt, environment.yml, Makefile, CI."""

import re
import tomllib

import yaml

# conda-forge names that differ from the PyPI names in pyproject.toml
CONDA_TO_PYPI = {"pytorch-cpu": "torch", "pytorch": "torch"}
CONDA_ONLY = {"python", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject(root):
    return tomllib.loads((root / "pyproject.toml").read_text())


def _pyproject_packages(root) -> set[str]:
    project = _pyproject(root)["project"]
    names = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        names |= {_name(r) for r in extra}
    return names


def _environment(root):
    return yaml.safe_load((root / "environment.yml").read_text())


def test_environment_yml_lists_the_same_packages_as_pyproject(root):
    conda = set()
    pip_entries = []
    for dep in _environment(root)["dependencies"]:
        if isinstance(dep, dict):
            pip_entries += dep["pip"]
            continue
        name = _name(dep)
        if name not in CONDA_ONLY:
            conda.add(CONDA_TO_PYPI.get(name, name))
    # a package conda-forge lacks is installed by pip inside the conda environment
    conda |= {_name(e) for e in pip_entries if not e.startswith("-")}
    pyproject = _pyproject_packages(root)
    assert conda - pyproject == set(), f"in environment.yml but not pyproject.toml: {sorted(conda - pyproject)}"
    assert pyproject - conda == set(), f"in pyproject.toml but not environment.yml: {sorted(pyproject - conda)}"
    assert "-e ." in pip_entries, "environment.yml must install coursekit itself (pip: -e .)"


def test_environment_yml_uses_conda_forge_and_a_cpu_torch(root):
    env = _environment(root)
    assert env["channels"] == ["conda-forge"]
    assert any(isinstance(d, str) and d.startswith("pytorch-cpu") for d in env["dependencies"])


def test_constraints_pin_every_dependency_and_torch_2_13(root):
    lines = [ln.strip() for ln in (root / "constraints.txt").read_text().splitlines()]
    pins = {}
    for line in lines:
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt line {line!r} is not an exact pin"
            pins[name.lower().replace("_", "-")] = version
    assert pins["torch"] == "2.13.0"
    for package in _pyproject_packages(root):
        assert package.replace("_", "-") in pins, f"{package} is not pinned in constraints.txt"


def test_ci_runs_exactly_the_readme_test_command(root):
    readme = (root / "README.md").read_text()
    ci = (root / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    commands = [ln for ln in ci.splitlines() if ln.strip() and not ln.startswith("#")]
    assert commands[-1].strip() == "make test"


def test_makefile_installs_with_the_constraints_and_shows_its_progress(root):
    makefile = (root / "Makefile").read_text()
    pip = re.search(r"^PIP\s*:=\s*(.+)$", makefile, flags=re.M).group(1)
    assert "-c constraints.txt" in pip
    assert "--quiet" not in pip, "a first set-up takes minutes: pip must show what it installs"
    assert "$(PIP) -e .\n" in makefile  # make lab: the runtime only
    assert '$(PIP) -e ".[test,site,hub]"' in makefile  # make test / make site: every extra
    extras = set(_pyproject(root)["project"]["optional-dependencies"])
    assert extras == {"test", "site", "hub"}, f"make test installs test, site and hub, not {sorted(extras)}"


def test_python_versions_agree(root):
    """requires-python, ruff's target, the conda environment and the README name the same Python."""
    assert _pyproject(root)["project"]["requires-python"] == ">=3.11"
    assert _pyproject(root)["tool"]["ruff"]["target-version"] == "py311"
    assert "python=3.11" in _environment(root)["dependencies"]
    assert "Python 3.11" in (root / "README.md").read_text()
    assert "sys.version_info < (3, 11)" in (root / "Makefile").read_text()


def _makefile_version_check(root) -> str:
    """The Python code of the Makefile's version check (what make hands to '$(PYTHON) -c')."""
    makefile = (root / "Makefile").read_text()
    code = re.search(r"@\$\(PYTHON\) -c '(.*?)'", makefile, flags=re.S).group(1)
    return code.replace("\\\n", " ")  # make and the shell pass backslash-newlines on; Python joins them


def test_make_stops_at_once_on_an_old_python_and_notes_an_untested_new_one(root):
    import subprocess
    import sys

    code = _makefile_version_check(root)
    for version, status, says in (((3, 10, 14), 1, "3.10 is too old: the course needs Python 3.11"),
                                  ((3, 11, 7), 0, "make: Python 3.11\n"),
                                  ((3, 13, 1), 0, "the pins are tested on 3.11")):
        pretend = f"import sys; sys.version_info = {version!r}; exec({code!r})"
        proc = subprocess.run([sys.executable, "-c", pretend], capture_output=True, text=True, timeout=60)
        assert proc.returncode == status, (version, proc.stdout, proc.stderr)
        assert says in proc.stdout + proc.stderr, (version, proc.stdout, proc.stderr)
