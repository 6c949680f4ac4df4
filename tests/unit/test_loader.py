"""The check loader validates every check at load and refuses duplicates."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from scanner.checking.loader import CheckLoadError, checks_in, load_checks

GOOD = '''
"""A third-party check."""
from scanner.checking.api import Check, Finding
from scanner.model.vocabulary import Outcome, Platform, Strategy

def judge(out, ctx):
    return [Finding(ism="ISM-1501", outcome=Outcome.EFFECTIVE, evidence="ok")]

CHECK = Check(id="{cid}", title="A third-party OS check", strategy=Strategy.PATCH_OS,
              ism=("ISM-1501",), platforms=frozenset({{Platform.LINUX}}),
              collect={{"x": "cat /etc/os-release"}}, judge=judge, version=1)
'''


@pytest.fixture
def pkgroot(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("acme_")]:
        del sys.modules[name]


def make(root: Path, pkg: str, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / pkg / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    for d in [root / pkg, *(root / pkg).rglob("*")]:
        if d.is_dir() and not (d / "__init__.py").exists():
            (d / "__init__.py").write_text('"""pkg"""\n')


def test_builtin_checks_load_through_the_entry_point_group() -> None:
    ids = [c.id for c in load_checks()]
    assert "patch_os.linux_os_support" in ids
    assert ids == sorted(ids)
    assert all(c.doc for c in load_checks())


def test_third_party_package_loads(pkgroot: Path) -> None:
    make(pkgroot, "acme_ok", {"patch_os/acme_os.py": GOOD.format(cid="patch_os.acme_os")})
    found = checks_in("acme_ok")
    assert [c.id for c in found] == ["patch_os.acme_os"]
    assert found[0].doc == "A third-party check."


def test_id_must_equal_module_path(pkgroot: Path) -> None:
    make(pkgroot, "acme_badid", {"patch_os/thing.py": GOOD.format(cid="patch_os.other")})
    with pytest.raises(CheckLoadError, match="expected 'patch_os.thing'"):
        checks_in("acme_badid")


def test_check_must_live_in_its_strategy_folder(pkgroot: Path) -> None:
    make(pkgroot, "acme_folder", {"mfa/thing.py": GOOD.format(cid="mfa.thing")})
    with pytest.raises(CheckLoadError, match="patch_os/ folder"):
        checks_in("acme_folder")


def test_docstring_is_required(pkgroot: Path) -> None:
    body = GOOD.format(cid="patch_os.nodoc").replace('"""A third-party check."""', "")
    make(pkgroot, "acme_nodoc", {"patch_os/nodoc.py": body})
    with pytest.raises(CheckLoadError, match="docstring"):
        checks_in("acme_nodoc")


def test_duplicate_ids_across_packages_are_refused(pkgroot: Path) -> None:
    make(
        pkgroot,
        "acme_dup",
        {"patch_os/linux_os_support.py": GOOD.format(cid="patch_os.linux_os_support")},
    )
    with pytest.raises(CheckLoadError, match="defined twice"):
        load_checks(("acme_dup",))


def test_metadata_is_validated_at_declaration(pkgroot: Path) -> None:
    bad = GOOD.format(cid="patch_os.bad").replace('ism=("ISM-1501",)', 'ism=("ISM-1173",)')
    make(pkgroot, "acme_bad", {"patch_os/bad.py": bad})
    with pytest.raises(CheckLoadError) as exc:
        checks_in("acme_bad")
    assert isinstance(exc.value.__cause__, ValidationError)
    assert "ISM-1173 is not a patch_os control" in str(exc.value)


def test_unimportable_package_is_named(pkgroot: Path) -> None:
    with pytest.raises(CheckLoadError, match="acme_missing"):
        checks_in("acme_missing")
