"""Windows: PDF software is blocked from creating child processes, hardened, and its security
settings are locked.

**Collected (read-only PowerShell):**
- ``pdf``: PDF software from ``App Paths`` (``AcroRd32.exe``, ``Acrobat.exe``, ``FoxitPDFReader.exe``,
  ``FoxitReader.exe``, ``PDFXEdit.exe``; target must exist) and ``Uninstall`` ``DisplayName`` /
  ``DisplayVersion`` (Adobe Acrobat / Reader, Foxit, PDF-XChange, Nitro, SumatraPDF; both registry
  views, never ``Win32_Product``); Adobe's lockable settings
  ``HKLM\\SOFTWARE\\[WOW6432Node\\]Policies\\Adobe\\<Acrobat Reader|Adobe Acrobat>\\<version>\\
  FeatureLockDown`` (all values).
- ``mp_status``, ``asr_pref``, ``asr_policy``: Defender state and ASR rules (``checks/facts/windows/defender.py``; the
  same snippets as the Office ASR checks).

**ISM-1670** (ML2-3): ASR rule *Block Adobe Reader from creating child processes*
``7674ba52-37eb-4a4f-a9a1-f0f9a1619a2c`` in Block mode with Defender the active antivirus →
effective; audit / warn / off / absent, or real-time protection off → ineffective; Defender not the
active antivirus → no_visibility. The rule covers Adobe Reader only: non-Adobe PDF software
(alone, or beside a compliant Adobe install) → no_visibility (needs other evidence).
**ISM-1860** (ML2-3; partly): every Adobe ``FeatureLockDown`` key found sets ``bProtectedMode = 1``,
``iProtectedView = 2``, ``bEnhancedSecurityStandalone = 1`` and ``bEnhancedSecurityInBrowser = 1``
(Adobe's enterprise configuration guide, as essential-eight.md 2.7 cites it, marked unverified
there) → effective; a value missing or different, or no ``FeatureLockDown`` → ineffective.
A short key-setting list, not a full baseline comparison; ``bDisableJavaScript`` is reported.
**ISM-1824** (ML2-3; partly): the same values are present under ``FeatureLockDown`` (values there
are locked against user change, whatever they are) → effective; missing → ineffective.
For 1860 / 1824, non-Adobe PDF software has no baseline here → not_assessed (named), also when it
sits beside a compliant Adobe install.

not_applicable: no PDF software found (browsers' built-in PDF viewers are judged with the
browsers). no_visibility: a read failed (PowerShell 2.0 without ``ConvertTo-Json``, access
denied, timeout). Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks._asr import defender, judge_rules, rules
from checks.facts.fact import Unknown
from checks.facts.reading import to_int
from checks.facts.windows.defender import ASR_POLICY, ASR_PREFERENCE, DEFENDER_STATUS
from checks.facts.windows.pdf import PDF_SOFTWARE
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

ISMS = ("ISM-1670", "ISM-1860", "ISM-1824")
RULE = {"7674ba52-37eb-4a4f-a9a1-f0f9a1619a2c": "Block Adobe Reader from creating child processes"}
LOCKDOWN = {
    "bProtectedMode": 1,
    "iProtectedView": 2,
    "bEnhancedSecurityStandalone": 1,
    "bEnhancedSecurityInBrowser": 1,
}

_ADOBE = ("adobe acrobat", "acrobat reader", "adobe reader")


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    pdf = PDF_SOFTWARE.read(outputs.get("pdf"))
    if isinstance(pdf, Unknown):
        reason = f"PDF software not read: {pdf.reason}"
        return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=reason) for i in ISMS]
    apps, products, lockdown = pdf.apps, pdf.products, pdf.lockdown
    adobe = sorted(
        f"{n} {v}".strip() for n, v in products.items() if any(a in n.lower() for a in _ADOBE)
    )
    adobe += sorted(e for e in ("AcroRd32.exe", "Acrobat.exe") if e in apps and not adobe)
    others = sorted(
        f"{n} {v}".strip() for n, v in products.items() if not any(a in n.lower() for a in _ADOBE)
    )
    others += sorted(
        e
        for e in ("FoxitPDFReader.exe", "FoxitReader.exe", "PDFXEdit.exe")
        if e in apps and not others
    )
    observed: dict[str, Any] = {"adobe": adobe, "other_pdf": others, "lockdown": lockdown}
    if not adobe and not others:
        na = (
            "no PDF software installed (App Paths, Uninstall); browsers' built-in PDF viewers are "
            "judged with the browsers"
        )
        return [
            Finding(ism=i, outcome=Outcome.NOT_APPLICABLE, evidence=na, observed=observed)
            for i in ISMS
        ]
    other_text = f"non-Adobe PDF software installed ({', '.join(others)})"
    results: dict[str, tuple[Outcome, str, dict[str, Any]]] = {}
    if adobe:
        outcome, text, obs = judge_rules(RULE, defender(outputs.get("mp_status")), rules(outputs))
        obs.update(observed)
        if outcome is Outcome.EFFECTIVE and others:
            outcome, text = (
                Outcome.NO_VISIBILITY,
                f"{text}; but {other_text} is not covered by this Adobe-only rule",
            )
        results["ISM-1670"] = (outcome, text, obs)
        locked_missing: list[str] = []
        weak: list[str] = []
        if not lockdown:
            locked_missing.append("no Adobe FeatureLockDown policy key")
        for path, vals in sorted(lockdown.items()):
            for name, want in LOCKDOWN.items():
                if name not in vals:
                    locked_missing.append(f"{path}: {name} not set")
                elif to_int(vals[name]) != want:
                    weak.append(f"{path}: {name} = {vals[name]} ({want} needed)")
        found = ", ".join(sorted(lockdown)) or "none"
        if locked_missing or weak:
            results["ISM-1860"] = (
                Outcome.INEFFECTIVE,
                f"Adobe ({', '.join(adobe)}) not hardened: " + "; ".join(locked_missing + weak),
                observed,
            )
        else:
            results["ISM-1860"] = (
                Outcome.EFFECTIVE,
                f"Adobe ({', '.join(adobe)}) FeatureLockDown sets "
                f"{', '.join(f'{k} = {v}' for k, v in LOCKDOWN.items())} ({found}); partly: key settings only",
                observed,
            )
        if locked_missing:
            results["ISM-1824"] = (
                Outcome.INEFFECTIVE,
                f"Adobe ({', '.join(adobe)}) security settings not locked: "
                + "; ".join(locked_missing),
                observed,
            )
        else:
            results["ISM-1824"] = (
                Outcome.EFFECTIVE,
                f"Adobe ({', '.join(adobe)}) security settings are locked under FeatureLockDown ({found}); "
                "partly: key settings only",
                observed,
            )
        for ism in ("ISM-1860", "ISM-1824"):
            if results[ism][0] is Outcome.EFFECTIVE and others:
                results[ism] = (
                    Outcome.NOT_ASSESSED,
                    f"{results[ism][1]}; but {other_text} has no baseline in this check",
                    observed,
                )
    else:
        results["ISM-1670"] = (
            Outcome.NO_VISIBILITY,
            f"{other_text}; the Defender ASR rule covers Adobe Reader only, so another control's evidence is needed",
            observed,
        )
        nb = (
            Outcome.NOT_ASSESSED,
            f"{other_text}; no hardening baseline is defined for it in this check",
            observed,
        )
        results["ISM-1860"] = nb
        results["ISM-1824"] = nb
    return [
        Finding(ism=i, outcome=results[i][0], evidence=results[i][1], observed=results[i][2])
        for i in ISMS
    ]


CHECK = Check(
    id="user_app_hardening.windows_pdf",
    title="PDF software blocked from child processes, hardened and its settings locked (Adobe)",
    strategy=Strategy.USER_APP_HARDENING,
    ism=ISMS,
    platforms=frozenset({Platform.WINDOWS}),
    collect={
        "pdf": PDF_SOFTWARE.cmd,
        "mp_status": DEFENDER_STATUS.cmd,
        "asr_pref": ASR_PREFERENCE.cmd,
        "asr_policy": ASR_POLICY.cmd,
    },
    judge=judge,
    # ISM-1670: the ASR rule from Get-MpPreference or, as its fallback, the policy registry, enforced
    # by an active Defender. ISM-1860/1824 are Adobe's FeatureLockDown values, which the PDF read
    # carries; Defender and ASR play no part in them.
    rests_on={
        "ISM-1670": ("pdf", "mp_status", "asr_pref|asr_policy"),
        "ISM-1860": ("pdf",),
        "ISM-1824": ("pdf",),
    },
    version=1,
)
