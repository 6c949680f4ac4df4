"""Linux: web browsers block ads and Java, their security settings are locked by policy and key
hardening policies are set.

**Collected (read-only shell, no root needed; works on Debian/Ubuntu and RHEL-family):**
- ``browsers``: ``command -v`` for google-chrome(-stable), chromium(-browser), microsoft-edge(-stable),
  firefox(-esr); package versions from ``dpkg-query -W`` or ``rpm -q`` (google-chrome-stable,
  chromium, chromium-browser, microsoft-edge-stable, firefox, firefox-esr, and the Java browser
  plug-in packages icedtea-plugin / icedtea-web); ``/snap/firefox`` and ``/snap/chromium``.
- ``policies``: every managed policy file, printed after a ``@@@ FILE <path>`` marker:
  ``/etc/opt/chrome/policies/managed/*.json``, ``/etc/chromium/policies/managed/*.json``,
  ``/etc/chromium-browser/policies/managed/*.json``, ``/etc/opt/edge/policies/managed/*.json``,
  ``/etc/firefox/policies/policies.json`` (also read by the Ubuntu Firefox snap),
  ``/etc/firefox-esr/policies/policies.json``, ``/usr/lib{,64}/firefox{,-esr}/distribution/policies.json``.
  ``…/policies/recommended`` files are user-changeable and not read.

**ISM-1485, ISM-1585, ISM-1412**: the same rules as ``windows_browsers`` (``checks/_browsers.py``):
an accepted ad-blocking extension force-installed in every browser (ids as data plus inventory
``e8_adblock_extension_ids``); each browser's core security setting set by managed policy
(Chrome/Chromium Safe Browsing, Edge SmartScreen, Firefox ``DisableSecurityBypass``; partly); and
a short key-policy list for hardening (partly, not a full baseline comparison). Managed policy
files under ``/etc`` are root-owned, so users cannot change them.
**ISM-1486**: Chrome, Chromium, Edge and Firefox 53+ cannot run Java applets (no NPAPI: vendor
design, the evidence says so); ineffective when a Firefox ≤ 52 is installed together with an
IcedTea browser plug-in package.

All four: not_applicable when no browser is installed (typical for servers); no_visibility when
a read was refused, timed out, or a policy file is not valid JSON (the browser would ignore it
too, but the check cannot tell what was meant). Evidence grade: good.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from checks._browsers import Browser, judge_ads, judge_hardened, judge_java_modern, judge_locked
from checks._linux import unreadable
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

ISMS = ("ISM-1486", "ISM-1485", "ISM-1585", "ISM-1412")

BROWSERS = (
    "for b in google-chrome google-chrome-stable chromium chromium-browser microsoft-edge"
    ' microsoft-edge-stable firefox firefox-esr; do p=$(command -v "$b" 2>/dev/null) && echo "bin $b $p";'
    " done; if command -v dpkg-query >/dev/null 2>&1; then dpkg-query -W"
    " -f='pkg ${Package} ${Version} ${Status}\\n' google-chrome-stable chromium chromium-browser"
    " microsoft-edge-stable firefox firefox-esr icedtea-plugin icedtea-web 2>/dev/null;"
    " elif command -v rpm >/dev/null 2>&1; then rpm -q --qf 'pkg %{NAME} %{VERSION} install ok installed\\n'"
    " google-chrome-stable chromium microsoft-edge-stable firefox icedtea-web 2>/dev/null | grep '^pkg';"
    ' fi; for s in firefox chromium; do [ -d /snap/$s ] && echo "snap $s"; done; true'
)
POLICIES = (
    "for f in /etc/opt/chrome/policies/managed/*.json /etc/chromium/policies/managed/*.json"
    " /etc/chromium-browser/policies/managed/*.json /etc/opt/edge/policies/managed/*.json"
    " /etc/firefox/policies/policies.json /etc/firefox-esr/policies/policies.json"
    " /usr/lib/firefox/distribution/policies.json /usr/lib64/firefox/distribution/policies.json"
    ' /usr/lib/firefox-esr/distribution/policies.json; do [ -f "$f" ] && { echo "@@@ FILE $f";'
    ' cat "$f"; echo; }; done; true'
)

# name, family, binaries, packages, snap, policy path prefixes
_KINDS = (
    (
        "Google Chrome",
        "chromium",
        ("google-chrome", "google-chrome-stable"),
        ("google-chrome-stable",),
        None,
        ("/etc/opt/chrome/",),
    ),
    (
        "Chromium",
        "chromium",
        ("chromium", "chromium-browser"),
        ("chromium", "chromium-browser"),
        "chromium",
        ("/etc/chromium/", "/etc/chromium-browser/"),
    ),
    (
        "Microsoft Edge",
        "edge",
        ("microsoft-edge", "microsoft-edge-stable"),
        ("microsoft-edge-stable",),
        None,
        ("/etc/opt/edge/",),
    ),
    (
        "Mozilla Firefox",
        "firefox",
        ("firefox", "firefox-esr"),
        ("firefox", "firefox-esr"),
        "firefox",
        ("/etc/firefox", "/usr/lib/firefox", "/usr/lib64/firefox"),
    ),
)


def parse_inventory(text: str) -> tuple[set[str], dict[str, str], set[str]]:
    """(binaries found, installed package → version, snaps)."""
    bins, pkgs, snaps = set(), {}, set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "bin":
            bins.add(parts[1])
        elif (
            len(parts) >= 3 and parts[0] == "pkg" and line.rstrip().endswith("install ok installed")
        ):
            pkgs[parts[1]] = parts[2]
        elif len(parts) == 2 and parts[0] == "snap":
            snaps.add(parts[1])
    return bins, pkgs, snaps


def parse_policy_files(text: str) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """path → policy JSON object, and the paths whose content is not a JSON object."""
    files: dict[str, dict[str, Any]] = {}
    bad: list[str] = []
    for chunk in re.split(r"^@@@ FILE ", text, flags=re.MULTILINE)[1:]:
        path, _, body = chunk.partition("\n")
        try:
            doc = json.loads(body) if body.strip() else {}
        except ValueError:
            bad.append(path.strip())
            continue
        if isinstance(doc, dict):
            files[path.strip()] = doc
        else:
            bad.append(path.strip())
    return files, bad


def _version(v: str | None) -> str | None:
    if not v:
        return None
    v = v.split(":", 1)[-1]  # Debian epoch
    return re.split(r"[-~+]", v, maxsplit=1)[0] or None


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    def all_(
        outcome: Outcome, evidence: str, observed: dict[str, Any] | None = None
    ) -> list[Finding]:
        return [
            Finding(ism=i, outcome=outcome, evidence=evidence, observed=observed or {})
            for i in ISMS
        ]

    inv = outputs.get("browsers")
    why = unreadable(inv)
    if why is not None or inv is None:
        return all_(Outcome.NO_VISIBILITY, f"browser inventory not read: {why}")
    bins, pkgs, snaps = parse_inventory(inv.text)
    pol_out = outputs.get("policies")
    pol_why = unreadable(pol_out, stdout_denial=True)
    if pol_why is None and pol_out is not None and pol_out.err.strip():
        low = pol_out.err.lower()
        if "permission denied" in low:
            pol_why = f"a policy file could not be read ({pol_out.err.strip()[:160]})"
    files, bad = (
        parse_policy_files(pol_out.text) if pol_out is not None and pol_why is None else ({}, [])
    )
    browsers: list[Browser] = []
    for name, family, bin_names, pkg_names, snap, prefixes in _KINDS:
        installed = [b for b in bin_names if b in bins] + [p for p in pkg_names if p in pkgs]
        if snap and snap in snaps:
            installed.append(f"snap {snap}")
        if not installed:
            continue
        version = next((_version(pkgs[p]) for p in pkg_names if p in pkgs), None)
        policy: dict[str, Any] = {}
        sources = []
        for path, doc in sorted(files.items()):
            if not path.startswith(prefixes):
                continue
            body = doc.get("policies") if family == "firefox" else doc
            if isinstance(body, dict):
                policy.update(body)
                sources.append(path)
        browsers.append(
            Browser(
                name=name, family=family, version=version, policy=policy, source=", ".join(sources)
            )
        )
    observed_inv = {
        "binaries": sorted(bins),
        "packages": pkgs,
        "snaps": sorted(snaps),
        "policy_files": sorted(files),
    }
    if not browsers:
        return all_(
            Outcome.NOT_APPLICABLE,
            "no web browser installed (no Chrome, Chromium, Edge or Firefox binary, package or snap)",
            observed_inv,
        )
    results: dict[str, tuple[Outcome, str, dict[str, Any]]] = {}
    java = judge_java_modern(browsers)
    plugin = sorted(p for p in ("icedtea-plugin", "icedtea-web") if p in pkgs)
    if java[0] is Outcome.INEFFECTIVE and not plugin:
        java = (
            Outcome.EFFECTIVE,
            java[1] + ", but no Java browser plug-in (IcedTea) is installed",
            java[2],
        )
    java[2]["java_plugin_packages"] = plugin
    results["ISM-1486"] = java
    if pol_why is not None or bad:
        reason = pol_why or f"policy file(s) not valid JSON: {', '.join(bad)}"
        nv = (Outcome.NO_VISIBILITY, f"browser policies not read: {reason}", observed_inv)
        results.update({"ISM-1485": nv, "ISM-1585": nv, "ISM-1412": nv})
    else:
        results["ISM-1485"] = judge_ads(browsers, ctx.profile)
        results["ISM-1585"] = judge_locked(browsers)
        results["ISM-1412"] = judge_hardened(browsers)
    return [
        Finding(ism=i, outcome=results[i][0], evidence=results[i][1], observed=results[i][2])
        for i in ISMS
    ]


CHECK = Check(
    id="user_app_hardening.linux_browsers",
    title="Browsers block ads and Java, security settings locked and key policies set",
    strategy=Strategy.USER_APP_HARDENING,
    ism=ISMS,
    platforms=frozenset({Platform.LINUX}),
    collect={"browsers": Cmd(line=BROWSERS), "policies": Cmd(line=POLICIES)},
    judge=judge,
    version=1,
)
