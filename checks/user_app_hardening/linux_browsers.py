"""Linux: web browsers block ads and Java, their security settings are locked by policy and key
hardening policies are set.

**Collected (read-only shell, no root needed; works on Debian/Ubuntu and RHEL-family):**
- ``browsers`` (fact ``linux.browsers``): ``command -v`` for google-chrome(-stable),
  chromium(-browser), microsoft-edge(-stable), firefox(-esr); package versions from
  ``dpkg-query -W`` or ``rpm -q`` (google-chrome-stable, chromium, chromium-browser,
  microsoft-edge-stable, firefox, firefox-esr, and the Java browser plug-in packages
  icedtea-plugin / icedtea-web); ``/snap/firefox`` and ``/snap/chromium``.
- ``policies`` (fact ``linux.browser_policies``): every managed policy file, printed after a
  ``@@@ FILE <path>`` marker: ``/etc/opt/chrome/policies/managed/*.json``,
  ``/etc/chromium/policies/managed/*.json``, ``/etc/chromium-browser/policies/managed/*.json``,
  ``/etc/opt/edge/policies/managed/*.json``, ``/etc/firefox/policies/policies.json`` (also read by
  the Ubuntu Firefox snap), ``/etc/firefox-esr/policies/policies.json``,
  ``/usr/lib{,64}/firefox{,-esr}/distribution/policies.json``. ``…/policies/recommended`` files are
  user-changeable and not read. Chromium-family files of one browser are merged (in path order);
  Firefox reads ``/etc/firefox/policies/policies.json`` alone when it exists (its distribution
  files are then ignored, as Firefox ignores them).

**ISM-1485, ISM-1585, ISM-1412**: the same rules as ``windows_browsers``
(``checks/user_app_hardening/_browsers.py``): an accepted ad-blocking extension force-installed in
every browser (ids as data plus inventory ``e8_adblock_extension_ids``); each browser's core
security setting set by managed policy (Chrome/Chromium Safe Browsing, Edge SmartScreen, Firefox
``DisableSecurityBypass``; partly); and a short key-policy list for hardening (partly, not a full
baseline comparison). Managed policy files under ``/etc`` are root-owned, so users cannot change
them.
**ISM-1486**: Chrome, Chromium, Edge and Firefox 53+ cannot run Java applets (no NPAPI: vendor
design, the evidence says so); ineffective when a Firefox ≤ 52 is installed together with an
IcedTea browser plug-in package; no_visibility when a Firefox's version is not known (a tarball
install) and such a plug-in package is installed.

All four: not_applicable when no browser is installed (typical for servers); no_visibility when
a read was refused, timed out, or a policy file is not valid JSON (the browser would ignore it
too, but the check cannot tell what was meant). Evidence grade: good.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.linux.browsers import BROWSER_POLICIES, BROWSERS
from checks.user_app_hardening._browsers import (
    Browser,
    judge_ads,
    judge_hardened,
    judge_java_modern,
    judge_locked,
)
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

ISMS = ("ISM-1486", "ISM-1485", "ISM-1585", "ISM-1412")
# Firefox on Linux reads this file when it exists, and then no distribution policies.json.
FIREFOX_SYSTEM_POLICY = "/etc/firefox/policies/policies.json"

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

    inv = BROWSERS.read(outputs.get("browsers"))
    if isinstance(inv, Unknown):
        return all_(Outcome.NO_VISIBILITY, f"browser inventory not read: {inv.reason}")
    bins, pkgs, snaps = inv.binaries, inv.packages, inv.snaps
    pol = BROWSER_POLICIES.read(outputs.get("policies"))
    files = {} if isinstance(pol, Unknown) else pol.files
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
            if (
                family == "firefox"
                and FIREFOX_SYSTEM_POLICY in files
                and path != FIREFOX_SYSTEM_POLICY
            ):
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
    if java[0] in (Outcome.INEFFECTIVE, Outcome.NO_VISIBILITY) and not plugin:
        java = (
            Outcome.EFFECTIVE,
            java[1] + ", but no Java browser plug-in (IcedTea) is installed",
            java[2],
        )
    java[2]["java_plugin_packages"] = plugin
    results["ISM-1486"] = java
    if isinstance(pol, Unknown) or pol.invalid:
        reason = (
            pol.reason
            if isinstance(pol, Unknown)
            else "policy file(s) not valid JSON: " + ", ".join(pol.invalid)
        )
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
    collect={"browsers": BROWSERS.cmd, "policies": BROWSER_POLICIES.cmd},
    judge=judge,
    # ISM-1486 is judged from the installed browsers' versions and the Java plug-in packages (the
    # inventory); managed policy files play no part in it.
    rests_on={"ISM-1486": ("browsers",)},
    version=3,  # v3: a Firefox of unknown version with a Java plug-in is no_visibility
)
