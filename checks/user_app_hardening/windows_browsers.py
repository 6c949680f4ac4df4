"""Windows: web browsers block ads and Java, their security settings are locked by policy and
key hardening policies are set.

**Collected (read-only PowerShell):**
- ``browsers`` (fact ``windows.browsers``): installed browsers from ``App Paths`` (``chrome.exe``, ``msedge.exe``,
  ``firefox.exe``; both registry views, the target file must exist) and versions from the
  ``Uninstall`` keys (``DisplayName`` Google Chrome / Microsoft Edge / Mozilla Firefox / Java…;
  never ``Win32_Product``); machine policies under ``HKLM\\SOFTWARE\\Policies\\Google\\Chrome``,
  ``…\\Microsoft\\Edge`` and ``…\\Mozilla\\Firefox`` (values and subkeys, e.g.
  ``ExtensionInstallForcelist\\1``; the ``Recommended`` subkey is user-changeable and ignored);
  Firefox ``distribution\\policies.json`` under Program Files (only the one beside the
  ``firefox.exe`` that App Paths names counts: Firefox reads no other); the Java deployment files
  ``%windir%\\Sun\\Java\\Deployment\\deployment.config`` / ``deployment.properties``.
- ``features``: the Internet Explorer 11 feature read of ``windows_ie11`` (same snippet), judged
  by that check's rules.

**ISM-1485** (ads): effective when every installed browser force-installs an accepted
ad-blocking extension by machine policy (Chromium ``ExtensionInstallForcelist`` or
``ExtensionSettings`` ``installation_mode = force_installed``; Firefox ``ExtensionSettings``);
accepted ids are data in ``checks/user_app_hardening/_browsers.py`` plus inventory ``e8_adblock_extension_ids``;
ineffective when one lacks it (pop-up blocking does not count).
**ISM-1585** (users cannot change security settings; partly): effective when each browser's core
security setting is machine policy — Chrome Safe Browsing (``SafeBrowsingProtectionLevel`` ≥ 1),
Edge SmartScreen on with ``PreventSmartScreenPromptOverride``, Firefox ``DisableSecurityBypass``.
**ISM-1412** (hardened, ML2; partly): the 1585 settings plus ``SSLErrorOverrideAllowed = 0`` and an
extension allow-list (``ExtensionInstallBlocklist`` ``*``; Edge also
``PreventSmartScreenPromptOverrideForFiles``; Firefox ``ExtensionSettings`` ``*`` blocked). This is
a short key-policy list, not a full comparison with ASD's and the vendors' baselines.
For these three: not_applicable when no Chrome, Edge or Firefox is installed (IE11 is judged under
ISM-1654).

**ISM-1486** (Java): Chrome, Chromium-based Edge and Firefox 53+ have no NPAPI, so they cannot run
Java applets (vendor design; the evidence says so). The residual path is IE11: ineffective when
IE11 is enabled (per ``windows_ie11``) and a Java runtime is installed without
``deployment.webjava.enabled=false`` in the system ``deployment.properties`` (which Java reads only
when ``deployment.config`` names it with ``deployment.system.config``), or a Firefox ≤ 52 is
installed; no_visibility when IE11's state is unknown and a JRE is present, when a Firefox's
version is not known, or when no other browser is installed and IE11's state is unknown (whether
any browser exists is then not shown); effective otherwise; not_applicable when no browser at all
is present (IE11 disabled, no other browser).

All: no_visibility when the reads failed (PowerShell 2.0 without ``ConvertTo-Json``, access
denied, timeout). Evidence grade: good.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.windows.browsers import BROWSERS, WindowsBrowsers
from checks.facts.windows.features import IE11_FEATURES
from checks.user_app_hardening import windows_ie11
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
SYSTEM_PROPERTIES = "/sun/java/deployment/deployment.properties"

_APPS = (
    ("chrome.exe", "Google Chrome", "chromium", "Google\\Chrome", "Google Chrome"),
    ("msedge.exe", "Microsoft Edge", "edge", "Microsoft\\Edge", "Microsoft Edge"),
    ("firefox.exe", "Mozilla Firefox", "firefox", "Mozilla\\Firefox", "Mozilla Firefox"),
)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _folder(path: str) -> str:
    return path.replace("/", "\\").rsplit("\\", 1)[0].lower()


def parse_browsers(data: WindowsBrowsers) -> list[Browser]:
    found = []
    for exe, name, family, key, display in _APPS:
        exe_path = data.apps.get(exe)
        if not exe_path:
            continue
        exact = data.versions.get(display)
        version = exact or next(
            (v for n, v in sorted(data.versions.items()) if n.startswith(display) and v), None
        )
        policy = {k: v for k, v in data.policies.get(key, {}).items() if k != "Recommended"}
        source = f"HKLM\\SOFTWARE\\Policies\\{key}" if policy else ""
        if family == "firefox":
            for path, text in sorted(data.firefox_json.items()):
                if _folder(path) != _folder(exe_path) + "\\distribution":
                    continue  # another install's distribution folder: this Firefox never reads it
                try:
                    doc = json.loads(text)
                except ValueError:
                    continue
                file_pol = _dict(_dict(doc).get("policies"))
                if file_pol:
                    policy = {**file_pol, **policy}
                    source = f"{source} + {path}" if source else path
        found.append(
            Browser(name=name, family=family, version=version, policy=policy, source=source)
        )
    return found


def _jre(data: WindowsBrowsers) -> list[str]:
    return sorted(
        f"{n} {v}".strip()
        for n, v in data.versions.items()
        if n.startswith("Java") and "auto updater" not in n.lower()
    )


def _properties(text: str) -> dict[str, str]:
    """A Java ``.properties`` text: key → value (``\\:`` unescaped, spaces around ``=`` dropped)."""
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        found[key.strip()] = value.strip().replace("\\:", ":").replace("\\\\", "\\")
    return found


def _webjava_off(data: WindowsBrowsers) -> bool:
    """Browser Java is off in the system deployment.properties, and deployment.config makes Java
    read that file (without it the system file is ignored and each user's own file rules)."""
    config = _properties(data.java.get("deployment.config", ""))
    target = config.get("deployment.system.config", "").replace("\\", "/").lower()
    props = _properties(data.java.get("deployment.properties", ""))
    return (
        target.endswith(SYSTEM_PROPERTIES)
        and props.get("deployment.webjava.enabled", "").lower() == "false"
    )


def _java(
    data: WindowsBrowsers, browsers: list[Browser], ie: Finding
) -> tuple[Outcome, str, dict[str, Any]]:
    jre = _jre(data)
    off = _webjava_off(data)
    observed: dict[str, Any] = {"jre": jre, "webjava_disabled": off, "ie11": ie.outcome.value}
    parts = []
    if browsers:
        outcome, text, obs = judge_java_modern(browsers)
        observed.update(obs)
        if outcome in (Outcome.INEFFECTIVE, Outcome.NO_VISIBILITY):
            return outcome, text, observed
        parts.append(text)
    ie_on = ie.outcome is Outcome.INEFFECTIVE
    if not browsers and ie.outcome is not Outcome.EFFECTIVE and not ie_on:
        # No other browser and IE11's state unknown: whether any browser exists is not shown, so
        # neither "no browser" (not_applicable) nor "no Java in a browser" (effective) is evidenced.
        return (
            Outcome.NO_VISIBILITY,
            f"no Chrome, Edge or Firefox installed and Internet Explorer 11's state is unknown: "
            f"{ie.evidence}",
            observed,
        )
    if ie.outcome is Outcome.EFFECTIVE:
        if not browsers:
            return (
                Outcome.NOT_APPLICABLE,
                f"no web browser: {ie.evidence}; no Chrome, Edge or Firefox installed",
                observed,
            )
        parts.append("Internet Explorer 11 is disabled or removed")
    elif not jre:
        parts.append("no Java runtime is installed, so IE11 has no Java plug-in")
    elif off:
        parts.append(
            f"Java ({', '.join(jre)}) has browser Java disabled (deployment.webjava.enabled=false)"
        )
    elif ie_on:
        return (
            Outcome.INEFFECTIVE,
            f"Internet Explorer 11 is enabled and Java is installed ({', '.join(jre)}) without "
            f"deployment.webjava.enabled=false, so IE11 can run Java applets from the internet",
            observed,
        )
    else:
        return (
            Outcome.NO_VISIBILITY,
            f"Java is installed ({', '.join(jre)}) and Internet Explorer 11's state is unknown: {ie.evidence}",
            observed,
        )
    return Outcome.EFFECTIVE, "; ".join(parts), observed


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    data = BROWSERS.read(outputs.get("browsers"))
    if isinstance(data, Unknown):
        reason = f"browser inventory and policies not read: {data.reason}"
        return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=reason) for i in ISMS]
    browsers = parse_browsers(data)
    ie = windows_ie11.judge(
        {"features": outputs["features"]} if "features" in outputs else {}, ctx
    )[0]
    results: dict[str, tuple[Outcome, str, dict[str, Any]]] = {
        "ISM-1486": _java(data, browsers, ie)
    }
    if not browsers:
        na: tuple[Outcome, str, dict[str, Any]] = (
            Outcome.NOT_APPLICABLE,
            "no Google Chrome, Microsoft Edge or Mozilla Firefox installed (App Paths); "
            "Internet Explorer 11 is judged under ISM-1654",
            {},
        )
        results.update({"ISM-1485": na, "ISM-1585": na, "ISM-1412": na})
    else:
        results["ISM-1485"] = judge_ads(browsers, ctx.profile)
        results["ISM-1585"] = judge_locked(browsers)
        results["ISM-1412"] = judge_hardened(browsers)
    return [
        Finding(ism=i, outcome=results[i][0], evidence=results[i][1], observed=results[i][2])
        for i in ISMS
    ]


CHECK = Check(
    id="user_app_hardening.windows_browsers",
    title="Browsers block ads and Java, security settings locked and key policies set",
    strategy=Strategy.USER_APP_HARDENING,
    ism=ISMS,
    platforms=frozenset({Platform.WINDOWS}),
    collect={"browsers": BROWSERS.cmd, "features": IE11_FEATURES.cmd},
    judge=judge,
    # ISM-1486 rests on the browser inventory (versions, JRE, Java deployment files): with the IE11
    # read broken, IE11 counts as unknown and Java is judged on the JRE evidence alone (no JRE, or
    # browser Java disabled) or is no_visibility; the other three controls are browser policies.
    rests_on=dict.fromkeys(ISMS, ("browsers",)),
    version=3,  # v3: no browser with IE11 unknown, or a Firefox of unknown version, is not a Java pass
)
