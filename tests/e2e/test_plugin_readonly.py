"""A third-party check package is held to the built-in checks' read-only rule when it is loaded.

The plug-in is a real distribution: built and installed by pip (``--target``, so the suite's
virtualenv is never changed) with an ``e8scan.checks`` entry point, and found by e8scan through
``importlib.metadata`` exactly as a site's own package would be.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_cli_errors import E8SCAN, one_line_error

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-e8-checks"
version = "0.1.0"

[project.entry-points."e8scan.checks"]
acme = "acme_e8_checks"

[tool.setuptools.packages.find]
include = ["acme_e8_checks*"]
"""

# The command comes from the environment, so one installed plug-in serves every case below.
CHECK = '''"""ACME: a probe whose command the test chooses."""

import os

from scanner.checking.api import Check, Finding
from scanner.model.vocabulary import Outcome, Platform, Strategy


def judge(outputs, ctx):
    return [Finding(ism="ISM-1501", outcome=Outcome.NO_VISIBILITY, evidence="plug-in")]


CHECK = Check(
    id="patch_os.acme_probe",
    title="ACME probe",
    strategy=Strategy.PATCH_OS,
    ism=("ISM-1501",),
    platforms=frozenset({Platform.LINUX}),
    collect={"probe": os.environ["ACME_PROBE"]},
    judge=judge,
    version=1,
)
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build and pip-install the plug-in into its own folder (put on PYTHONPATH to use it)."""
    tmp = tmp_path_factory.mktemp("plugin")
    pkg = tmp / "src" / "acme_e8_checks"
    (pkg / "patch_os").mkdir(parents=True)
    (tmp / "src" / "pyproject.toml").write_text(PYPROJECT)
    (pkg / "__init__.py").write_text('"""ACME checks."""\n')
    (pkg / "patch_os" / "__init__.py").write_text('"""ACME patch_os checks."""\n')
    (pkg / "patch_os" / "acme_probe.py").write_text(CHECK)
    target = tmp / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
    subprocess.run([*pip, str(tmp / "src")], check=True, capture_output=True, timeout=300)
    assert (target / "acme_e8_checks-0.1.0.dist-info" / "entry_points.txt").is_file()
    return target


def e8_with(site: Path, probe: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(site), os.getcwd()])
    env = dict(os.environ, PYTHONPATH=path, ACME_PROBE=probe)
    return subprocess.run(
        [*E8SCAN, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_a_read_only_plugin_is_loaded_beside_the_built_in_checks(site: Path) -> None:
    listed = e8_with(site, "uname -r", "checks", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert '"patch_os.acme_probe"' in listed.stdout
    assert '"patch_os.linux_os_support"' in listed.stdout


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("rm -rf /var/cache/acme", "writes files or state"),
        ("apt-get update", "apt changes packages or refreshes caches"),
        ("uname -r > /tmp/acme-kernel", "redirects output into a file"),
    ],
)
def test_a_plugin_with_a_mutating_command_is_refused_at_load(
    site: Path, command: str, why: str
) -> None:
    for args in (("checks", "list"), ("plan", "-i", "inventories/local.yml")):
        proc = e8_with(site, command, *args)
        line = one_line_error(proc, "patch_os.acme_probe", "'probe'", why, command)
        assert "not read-only" in line
