"""Windows: does logging on to this host require (phishing-resistant) multi-factor authentication?

**Collected (one read-only PowerShell snippet, fact ``windows.logon_authentication``):**
- Windows Hello for Business policy ``HKLM\\SOFTWARE\\Policies\\Microsoft\\PassportForWork``:
  ``Enabled`` and ``RequireSecurityDevice`` (value names as in essential-eight.md 2.3, marked
  **unverified** there);
- ``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System`` ``ScForceOption``
  ("Interactive logon: Require Windows Hello for Business or smart card");
- every credential provider and credential provider filter under
  ``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Authentication\\Credential Providers``
  and ``...\\Credential Provider Filters`` with the CLSID's default name and ``InprocServer32``
  DLL from ``HKLM\\SOFTWARE\\Classes\\CLSID\\{…}`` and the provider's ``Disabled`` value;
- RDP: ``fDenyTSConnections`` and RDP-Tcp ``UserAuthentication`` (NLA — reported; NLA is not MFA);
- ``dsregcmd /status`` (read-only): AzureAdJoined, DomainJoined and NgcSet. NgcSet describes the
  **scanning account's** session, not the users', so it is reported only;
- the ``ExcludedCredentialProviders`` policy and Duo's ``FailOpen`` / ``RdpOnly`` values (only
  those two; the key's secrets are never read).

**Judgement** (the same logon paths serve privileged and unprivileged users):
- ``ScForceOption = 1``: smart card or WHfB required for interactive logon — ISM-1401, ISM-1173,
  ISM-0974 and ISM-1682 effective (smart cards and WHfB are ASD's phishing-resistant examples);
- otherwise the Duo for Windows Logon credential provider (not ``Disabled``, not excluded by the
  ``ExcludedCredentialProviders`` policy), judged on ``HKLM\\SOFTWARE\\Duo Security\\DuoCredProv``:
  ``FailOpen = 1`` (users log on with the password alone when Duo cannot be reached):
  ISM-1401/1173/0974 and ISM-1504 ineffective; ``RdpOnly = 1``: console and other local logons
  need the password alone, so ISM-1401/1173/0974 ineffective (privileged and unprivileged users
  use the same console), ISM-1504 (RDP) effective; both 0: ISM-1401/1173/0974/1504 effective
  (host-side part: bypass groups and offline access live in the Duo console); either value not
  set or unreadable: no_visibility. ISM-1682 **ineffective**: push and OTP are not
  phishing-resistant;
- otherwise another known third-party MFA credential provider or filter (RSA, Okta, Yubico,
  Silverfort … — the table :data:`MFA_PROVIDERS` below), not ``Disabled`` or excluded by policy:
  its enforcement settings (fail-open, bypass groups, which logon types it covers) are not read,
  so ISM-1401/1173/0974/1504 are **no_visibility** (installed is not enforced); ISM-1682
  ineffective (push, OTP and challenge-response are not phishing-resistant). A provider whose
  CLSID the ``ExcludedCredentialProviders`` policy lists is never offered and does not count;
- otherwise WHfB policy ``Enabled = 1`` (with or without ``RequireSecurityDevice``): MFA is
  available but not required on this host; whether password logon is still allowed for each
  account is decided in the directory (``userAccountControl`` SMARTCARD_REQUIRED, or Entra
  policies), which the host does not show: **no_visibility** for all four (the "partly" part);
- otherwise (password logon only): all four ineffective.
- ISM-1504 (MFA for the organisation's online services): only when the inventory marks the host
  ``e8_internet_facing`` **and** it accepts RDP (``fDenyTSConnections = 0``): judged like
  ISM-1401; not_applicable otherwise (``fDenyTSConnections = 1`` or not internet-facing; RD
  Gateway, OWA and ADFS front ends are not detected); no_visibility on an internet-facing host
  whose ``fDenyTSConnections`` is not set (an unread value is not "RDP disabled").
- no_visibility when the snippet fails (PowerShell 2.0 has no ``ConvertTo-Json``, access
  denied, timeout); ISM-1504 stays not_applicable on hosts not marked internet-facing.

Caveats: per-account enforcement (SMARTCARD_REQUIRED) and per-user WHfB enrolment are not
visible; ``ScForceOption`` covers interactive (console and RDP) logon, not network logons.
Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.windows.logon_authentication import LOGON_AUTHENTICATION, LogonAuthentication
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

CHECK_ISM = ("ISM-1401", "ISM-1173", "ISM-0974", "ISM-1682", "ISM-1504")

# Third-party logon MFA products: (substring of provider name or DLL, product, kind, phishing
# resistant). From vendor documentation as remembered, not verified on installs: extend as needed.
MFA_PROVIDERS: tuple[tuple[str, str, str, bool], ...] = (
    ("duo", "Cisco Duo for Windows Logon", "push/OTP", False),
    ("securid", "RSA SecurID / RSA Authentication Agent", "OTP/push", False),
    ("rsa authentication", "RSA Authentication Agent", "OTP/push", False),
    ("okta", "Okta Verify / Okta Windows credential provider", "push/OTP", False),
    ("yubico", "Yubico Login for Windows", "OTP/challenge-response", False),
    ("yubikey", "Yubico Login for Windows", "OTP/challenge-response", False),
    ("silverfort", "Silverfort", "push", False),
    ("eset secure authentication", "ESET Secure Authentication", "push/OTP", False),
    ("authlite", "AuthLite", "OTP", False),
    ("multiotp", "multiOTP", "OTP", False),
    ("privacyidea", "privacyIDEA credential provider", "OTP/push", False),
    ("safenet", "Thales SafeNet Authentication Service agent", "OTP/push", False),
    ("authpoint", "WatchGuard AuthPoint", "push/OTP", False),
    ("userlock", "IS Decisions UserLock", "push/OTP", False),
)


def mfa_product(name: str, dll: str) -> tuple[str, str, bool] | None:
    hay = f"{name} {dll.rsplit(chr(92), 1)[-1]}".lower()
    for needle, product, kind, pr in MFA_PROVIDERS:
        if needle in hay:
            return product, kind, pr
    return None


@dataclass(frozen=True)
class Verdict:
    """``mfa`` for console and RDP logons (ISM-1401/1173/0974), ``pr`` phishing-resistant
    (ISM-1682), ``rdp`` for internet-facing RDP (ISM-1504); one evidence text each."""

    mfa: Outcome
    pr: Outcome
    rdp: Outcome
    text: str
    pr_text: str
    rdp_text: str


def _same(outcome: Outcome, pr: Outcome, text: str) -> Verdict:
    return Verdict(outcome, pr, outcome, text, text, text)


def _duo(settings: dict[str, int | None] | None, product: str) -> Verdict:
    """Duo for Windows Logon judged on its FailOpen and RdpOnly settings."""
    pr_text = f"{product}: push/OTP is not phishing-resistant"
    if settings is None or settings.get("FailOpen") is None or settings.get("RdpOnly") is None:
        shown = "no DuoCredProv key" if settings is None else f"values read: {settings}"
        text = (
            f"{product} is installed but its FailOpen / RdpOnly settings (HKLM\\SOFTWARE\\Duo "
            f"Security\\DuoCredProv) were not read ({shown}): whether it fails open or covers "
            f"console logons is not known"
        )
        return Verdict(
            Outcome.NO_VISIBILITY, Outcome.INEFFECTIVE, Outcome.NO_VISIBILITY, text, pr_text, text
        )
    if settings["FailOpen"] == 1:
        text = (
            f"{product} fails open (FailOpen = 1): when the Duo service cannot be reached, users "
            f"log on with the password alone"
        )
        return Verdict(
            Outcome.INEFFECTIVE, Outcome.INEFFECTIVE, Outcome.INEFFECTIVE, text, pr_text, text
        )
    if settings["RdpOnly"] == 1:
        text = (
            f"{product} covers RDP logons only (RdpOnly = 1): console and other local logons, by "
            f"privileged and unprivileged users alike, need the password alone"
        )
        rdp_text = (
            f"host-side part: {product} is required for RDP logons (RdpOnly = 1) and fails closed "
            f"(FailOpen = 0); bypass groups and offline access live in the Duo console"
        )
        return Verdict(
            Outcome.INEFFECTIVE, Outcome.INEFFECTIVE, Outcome.EFFECTIVE, text, pr_text, rdp_text
        )
    text = (
        f"host-side part: {product} is required for console and RDP logons (RdpOnly = 0) and "
        f"fails closed (FailOpen = 0); bypass groups and offline access live in the Duo console"
    )
    return Verdict(Outcome.EFFECTIVE, Outcome.INEFFECTIVE, Outcome.EFFECTIVE, text, pr_text, text)


def _assess(read: LogonAuthentication) -> tuple[Verdict, dict[str, Any]]:
    """The verdicts and the observed values."""
    sc_force = read.sc_force_option
    whfb = read.whfb_enabled
    tpm = read.whfb_require_security_device
    products: list[str] = []
    excluded: list[str] = []
    duo: str | None = None
    for p in read.providers:
        if p.disabled == 1:
            continue
        found = mfa_product(p.name, p.dll)
        if found is None:
            continue
        product, kind, _pr = found
        if p.clsid.upper() in read.excluded:
            excluded.append(f"{product} ({p.kind} {p.clsid})")
            continue
        products.append(f"{product} ({kind}; {p.kind} {p.clsid})")
        if product.startswith("Cisco Duo") and p.kind == "Credential Providers":
            duo = product
    observed: dict[str, Any] = {
        "ScForceOption": sc_force,
        "WHfB_Enabled": whfb,
        "WHfB_RequireSecurityDevice": tpm,
        "mfa_providers": products,
        "mfa_providers_excluded_by_policy": excluded,
        "duo_settings": read.duo,
        "rdp_enabled": None if read.deny_ts_connections is None else read.deny_ts_connections == 0,
        "rdp_nla": read.rdp_user_authentication,
        "dsregcmd_scanner_session": read.dsreg,
    }
    excluded_note = (
        f" ({'; '.join(excluded)} excluded by the ExcludedCredentialProviders policy, so it is "
        f"never offered)"
        if excluded
        else ""
    )
    if sc_force == 1:
        text = (
            "host-side part: ScForceOption = 1, smart card or Windows Hello for Business is "
            "required for interactive logon (phishing-resistant)"
        )
        return _same(Outcome.EFFECTIVE, Outcome.EFFECTIVE, text), observed
    if duo is not None:
        return _duo(read.duo, duo), observed
    if products:
        text = (
            f"third-party MFA credential provider installed: {'; '.join(products)}; its "
            f"enforcement settings (fail-open, bypass groups, which logon types it covers) are "
            f"not read, so whether logon needs it is not known; push/OTP is not phishing-resistant"
        )
        return (
            Verdict(
                Outcome.NO_VISIBILITY,
                Outcome.INEFFECTIVE,
                Outcome.NO_VISIBILITY,
                text,
                text,
                text,
            ),
            observed,
        )
    if whfb == 1:
        text = (
            f"Windows Hello for Business is enabled by policy (RequireSecurityDevice {tpm}) but "
            "not required (ScForceOption not 1): whether accounts may still log on with a "
            "password alone is set in the directory (SMARTCARD_REQUIRED) and not visible here"
        )
        return _same(Outcome.NO_VISIBILITY, Outcome.NO_VISIBILITY, text), observed
    text = (
        "password-only logon: no smart card/WHfB requirement (ScForceOption "
        f"{sc_force if sc_force is not None else 'not set'}), no WHfB policy and no known MFA "
        f"credential provider{excluded_note}"
    )
    if observed["rdp_nla"] == 1:
        text += " (RDP Network Level Authentication is on, but NLA is not MFA)"
    return _same(Outcome.INEFFECTIVE, Outcome.INEFFECTIVE, text), observed


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    read = LOGON_AUTHENTICATION.read(outputs.get("logon"))
    if isinstance(read, Unknown):
        text = f"logon configuration not read: {read.reason}"
        return [
            Finding(
                ism=i,
                outcome=Outcome.NOT_APPLICABLE,
                evidence="host is not internet-facing: no online logon service on this host",
            )
            if i == "ISM-1504" and not ctx.internet_facing
            else Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=text)
            for i in CHECK_ISM
        ]
    verdict, observed = _assess(read)
    findings = []
    for ism in CHECK_ISM:
        if ism == "ISM-1504" and ctx.internet_facing and observed["rdp_enabled"] is None:
            # an unset value is not "RDP disabled": not_applicable needs the value 1
            findings.append(
                Finding(
                    ism=ism,
                    outcome=Outcome.NO_VISIBILITY,
                    evidence="internet-facing host: whether RDP accepts connections is not "
                    "known (fDenyTSConnections is not set under Terminal Server)",
                    observed=observed,
                )
            )
            continue
        if ism == "ISM-1504" and not (ctx.internet_facing and observed["rdp_enabled"]):
            why_na = (
                "host is not internet-facing"
                if not ctx.internet_facing
                else "RDP is disabled, so the host serves no logon to the internet"
            )
            findings.append(
                Finding(
                    ism=ism,
                    outcome=Outcome.NOT_APPLICABLE,
                    evidence=f"{why_na}: no online logon service on this host",
                    observed=observed,
                )
            )
            continue
        if ism == "ISM-1682":
            outcome, text = verdict.pr, verdict.pr_text
        elif ism == "ISM-1504":
            outcome, text = verdict.rdp, "internet-facing RDP logon: " + verdict.rdp_text
        else:
            outcome, text = verdict.mfa, verdict.text
        findings.append(Finding(ism=ism, outcome=outcome, evidence=text, observed=observed))
    return findings


CHECK = Check(
    id="mfa.windows_logon_mfa",
    title="Windows logon requires (phishing-resistant) multi-factor authentication",
    strategy=Strategy.MFA,
    ism=CHECK_ISM,
    platforms=frozenset({Platform.WINDOWS}),
    collect={"logon": LOGON_AUTHENTICATION.cmd},
    judge=judge,
    # v2: an unset fDenyTSConnections on an internet-facing host is not "RDP disabled";
    # v3: Duo judged on FailOpen/RdpOnly, other MFA providers' presence alone is no_visibility,
    # providers excluded by the ExcludedCredentialProviders policy do not count
    version=3,
)
