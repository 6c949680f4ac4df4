"""Web browser policies as the user_app_hardening browser checks judge them (Windows and Linux).

Holds the data the judgements use — the accepted ad-blocking extension ids and the small set of
key security policies per browser family — and pure functions that turn one host's browser
inventory and machine policies into outcomes for ISM-1485 (ads), ISM-1585 (settings locked),
ISM-1412 (hardened, partly) and ISM-1486 (Java, modern browsers). No check lives here; the facts
the checks read are ``linux.browsers`` / ``linux.browser_policies`` and ``windows.browsers``.

Data sources for :data:`ADBLOCK_IDS`: the store ids of uBlock Origin and uBlock Origin Lite
(Chrome Web Store, Microsoft Edge Add-ons) and uBlock Origin's Firefox add-on id. Inventory
variable ``e8_adblock_extension_ids`` (a list or a comma-separated string) adds ids the
organisation has approved.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from checks.facts.reading import to_int
from scanner.inventory.profile import HostProfile
from scanner.model.vocabulary import Outcome

# id → what it is. Chromium ids are 32 letters a-p; Firefox ids are the add-on's gecko id.
ADBLOCK_IDS: dict[str, str] = {
    "cjpalhdlnbpafiamejdnhcphjbkeiagm": "uBlock Origin (Chrome Web Store)",
    "ddkjiahejlhfcafbddmgiahcphecmpfh": "uBlock Origin Lite (Chrome Web Store)",
    "odfafepnkmbhccpbejgmiehpchacaeak": "uBlock Origin (Microsoft Edge Add-ons)",
    "ublock0@raymondhill.net": "uBlock Origin (Firefox Add-ons)",
}

# Last Firefox release with NPAPI (Java plug-in) support: Firefox ESR 52. Chrome dropped NPAPI in
# version 45 (2015) and Chromium-based Edge never had it.
FIREFOX_LAST_NPAPI = 52

Rule = tuple[str, Callable[[Mapping[str, Any]], bool]]


def _num(policy: Mapping[str, Any], key: str) -> int | None:
    """A policy number: a JSON boolean (Linux) counts as 0/1, a DWORD or JSON number as itself."""
    value = policy.get(key)
    return int(value) if isinstance(value, bool) else to_int(value)


def _list(value: Any) -> list[str]:
    """A policy list: a JSON array (Linux), or a registry subkey of numbered values (Windows)."""
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        return [str(v) for _, v in sorted(value.items(), key=lambda kv: str(kv[0]))]
    if isinstance(value, str):
        return [value]
    return []


def _obj(value: Any) -> dict[str, Any]:
    """A dictionary policy: a JSON object (Linux), or a JSON string / multi-string (registry)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        value = "\n".join(str(v) for v in value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _safe_browsing(p: Mapping[str, Any]) -> bool:
    level = _num(p, "SafeBrowsingProtectionLevel")
    return (level is not None and level >= 1) or (
        level is None and _num(p, "SafeBrowsingEnabled") == 1
    )


def _blocklist_all(p: Mapping[str, Any]) -> bool:
    return "*" in _list(p.get("ExtensionInstallBlocklist")) or (
        str(_obj(_obj(p.get("ExtensionSettings")).get("*")).get("installation_mode", ""))
        == "blocked"
    )


def _ff_bypass(p: Mapping[str, Any]) -> bool:
    bypass = _obj(p.get("DisableSecurityBypass"))
    return bypass.get("InvalidCertificate") in (True, 1, "1") and bypass.get("SafeBrowsing") in (
        True,
        1,
        "1",
    )


def _ff_ext_blocked(p: Mapping[str, Any]) -> bool:
    star = _obj(_obj(p.get("ExtensionSettings")).get("*"))
    return star.get("installation_mode") == "blocked"


# ISM-1585: the browser's core security setting is delivered by machine policy (locked).
LOCKED: dict[str, list[Rule]] = {
    "chromium": [("SafeBrowsingProtectionLevel >= 1 (or SafeBrowsingEnabled = 1)", _safe_browsing)],
    "edge": [
        ("SmartScreenEnabled = 1", lambda p: _num(p, "SmartScreenEnabled") == 1),
        (
            "PreventSmartScreenPromptOverride = 1",
            lambda p: _num(p, "PreventSmartScreenPromptOverride") == 1,
        ),
    ],
    "firefox": [("DisableSecurityBypass {InvalidCertificate, SafeBrowsing} = true", _ff_bypass)],
}

# ISM-1412 (partly): key policies from ASD's browser hardening guidance, Google's Chrome Enterprise
# security configuration guide and the Microsoft Edge security baseline; not a full baseline.
HARDENED: dict[str, list[Rule]] = {
    "chromium": [
        *LOCKED["chromium"],
        ("SSLErrorOverrideAllowed = 0", lambda p: _num(p, "SSLErrorOverrideAllowed") == 0),
        ("ExtensionInstallBlocklist contains * (extensions allow-listed)", _blocklist_all),
    ],
    "edge": [
        *LOCKED["edge"],
        (
            "PreventSmartScreenPromptOverrideForFiles = 1",
            lambda p: _num(p, "PreventSmartScreenPromptOverrideForFiles") == 1,
        ),
        ("SSLErrorOverrideAllowed = 0", lambda p: _num(p, "SSLErrorOverrideAllowed") == 0),
        ("ExtensionInstallBlocklist contains * (extensions allow-listed)", _blocklist_all),
    ],
    "firefox": [
        *LOCKED["firefox"],
        (
            "ExtensionSettings '*' installation_mode = blocked (extensions allow-listed)",
            _ff_ext_blocked,
        ),
    ],
}


@dataclass(frozen=True)
class Browser:
    name: str  # Google Chrome, Microsoft Edge, Chromium, Mozilla Firefox
    family: str  # chromium | edge | firefox
    version: str | None
    policy: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # where the policy came from

    def label(self) -> str:
        return f"{self.name}{' ' + self.version if self.version else ''}"


def accepted_ids(profile: HostProfile) -> dict[str, str]:
    ids = dict(ADBLOCK_IDS)
    for extra in profile.values("e8_adblock_extension_ids"):
        ids.setdefault(extra.lower(), "organisation-approved (e8_adblock_extension_ids)")
    return ids


def forced_extensions(b: Browser) -> list[str]:
    """Extension ids the machine policy force-installs in this browser."""
    found: list[str] = []
    if b.family in ("chromium", "edge"):
        for entry in _list(b.policy.get("ExtensionInstallForcelist")):
            found.append(entry.split(";", 1)[0].strip().lower())
    for ext_id, conf in _obj(b.policy.get("ExtensionSettings")).items():
        if isinstance(conf, dict) and conf.get("installation_mode") == "force_installed":
            found.append(str(ext_id).strip().lower())
    return sorted(set(found))


def judge_ads(browsers: list[Browser], profile: HostProfile) -> tuple[Outcome, str, dict[str, Any]]:
    ids = accepted_ids(profile)
    lacking, having = [], []
    observed: dict[str, Any] = {}
    for b in browsers:
        forced = forced_extensions(b)
        blockers = [ids[i] for i in forced if i in ids]
        observed[b.name] = {"force_installed": forced}
        if blockers:
            having.append(f"{b.label()}: {', '.join(blockers)}")
        else:
            lacking.append(
                f"{b.label()} ({'force-installs ' + ', '.join(forced) if forced else 'no force-installed extension'})"
            )
    observed["accepted_ids"] = sorted(ids)
    if lacking:
        return (
            Outcome.INEFFECTIVE,
            "no accepted ad-blocking extension is force-installed by policy in: "
            + "; ".join(lacking)
            + (f" (present in: {'; '.join(having)})" if having else "")
            + "; pop-up blocking does not count",
            observed,
        )
    return (
        Outcome.EFFECTIVE,
        "ad-blocking extension force-installed by machine policy: " + "; ".join(having),
        observed,
    )


def judge_rules(
    browsers: list[Browser], rules: Mapping[str, list[Rule]], what: str, tail: str
) -> tuple[Outcome, str, dict[str, Any]]:
    bad, good = [], []
    observed: dict[str, Any] = {}
    for b in browsers:
        missing = [name for name, test in rules.get(b.family, []) if not test(b.policy)]
        observed[b.name] = {
            "policy_source": b.source or None,
            "policies": sorted(b.policy),
            "missing": missing,
        }
        if not b.policy:
            bad.append(f"{b.label()}: no machine policy at all")
        elif missing:
            bad.append(f"{b.label()}: missing {', '.join(missing)}")
        else:
            good.append(b.label())
    if bad:
        return Outcome.INEFFECTIVE, f"{what} not met — " + "; ".join(bad) + tail, observed
    return Outcome.EFFECTIVE, f"{what} met by machine policy for {', '.join(good)}" + tail, observed


def judge_locked(browsers: list[Browser]) -> tuple[Outcome, str, dict[str, Any]]:
    return judge_rules(
        browsers,
        LOCKED,
        "security settings enforced by machine policy (users cannot change them)",
        "; partly: the core security setting per browser is checked, user-writable preferences never count",
    )


def judge_hardened(browsers: list[Browser]) -> tuple[Outcome, str, dict[str, Any]]:
    return judge_rules(
        browsers,
        HARDENED,
        "key hardening policies",
        "; partly: a short list of key policies from ASD and vendor guidance, not a full baseline comparison",
    )


def judge_java_modern(browsers: list[Browser]) -> tuple[Outcome, str, dict[str, Any]]:
    """Java applets need NPAPI, which Chrome (45+), Chromium-based Edge and Firefox 52+ lack."""
    old, unknown = [], []
    for b in browsers:
        if b.family == "firefox":
            try:
                major = int((b.version or "").split(".", 1)[0])
            except ValueError:
                unknown.append(b.label())
                continue
            if major <= FIREFOX_LAST_NPAPI:
                old.append(b.label())
    observed = {"browsers": [b.label() for b in browsers]}
    if old:
        return (
            Outcome.INEFFECTIVE,
            f"{', '.join(old)} still supports NPAPI plug-ins (Java applets) — Firefox "
            f"{FIREFOX_LAST_NPAPI} ESR was the last",
            observed,
        )
    if unknown:
        return (
            Outcome.NO_VISIBILITY,
            f"{', '.join(unknown)}: version not read, and Firefox up to {FIREFOX_LAST_NPAPI} ESR "
            f"runs NPAPI plug-ins (Java applets)",
            observed,
        )
    return (
        Outcome.EFFECTIVE,
        f"{', '.join(observed['browsers'])}: none can run Java applets (no NPAPI plug-in support in "
        f"Chrome 45+, Chromium-based Edge or Firefox {FIREFOX_LAST_NPAPI + 1}+), so Java from the internet "
        f"is not processed by vendor design",
        observed,
    )
