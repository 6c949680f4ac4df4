"""Windows: is Internet Explorer 11 disabled or removed?

**Collected (one read-only PowerShell snippet):** ``Get-WindowsOptionalFeature -Online
-FeatureName Internet-Explorer-Optional-amd64`` (and ``-x86``) ``State``;
``Win32_OperatingSystem`` product type and build; the machine policy *Disable Internet Explorer 11
as a standalone browser* (``HKLM\\SOFTWARE\\Policies\\Microsoft\\Internet Explorer\\Main``
``NotifyDisableIEOptions``, as essential-eight.md 2.7 cites it); and whether
``%ProgramFiles%\\Internet Explorer\\iexplore.exe`` exists (fallback when the feature cannot be read).

**ISM-1654** (ML1-3):
- effective: the IE11 feature is ``Disabled`` / ``DisabledWithPayloadRemoved`` or unknown to the
  image (removed); or it is enabled but the machine policy disabling IE11 as a standalone browser
  is set with a value the policy writes (0, 1 or 2; evidence names the policy; ASD advises an
  application-control deny rule for ``iexplore.exe`` as well, which this check does not read);
  or, when the feature cannot be read
  (Windows 7 / 2008 R2 era), ``iexplore.exe`` does not exist;
- ineffective: the feature is ``Enabled`` and no disabling policy is set (this includes Windows 11,
  where ASD notes standard users can still start IE11);
- no_visibility: the snippet failed (PowerShell 2.0 without ``ConvertTo-Json``, access denied,
  timeout), or the feature state is unreadable and ``iexplore.exe`` exists, or the feature is
  enabled and ``NotifyDisableIEOptions`` holds a value the policy never writes (a string, 7).

Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.windows.features import IE11_FEATURES, IE11_OPTIONAL
from checks.user_app_hardening._features import verdict
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

# The values the ADMX policy's notification choice writes (0 never, 1 always, 2 once per user);
# the policy deletes the value when disabled. Anything else was not written by the policy.
_POLICY_VALUES = (0, 1, 2)


def _finding(
    outcome: Outcome, evidence: str, observed: dict[str, Any] | None = None
) -> list[Finding]:
    return [Finding(ism="ISM-1654", outcome=outcome, evidence=evidence, observed=observed or {})]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    data = IE11_FEATURES.read(outputs.get("features"))
    if isinstance(data, Unknown):
        return _finding(
            Outcome.NO_VISIBILITY, f"Internet Explorer 11 state not read: {data.reason}"
        )
    on, text = verdict(data, IE11_OPTIONAL, ())
    reg = data.reg
    policy = reg.get("NotifyDisableIEOptions")
    observed = {
        "build": data.build,
        "optional": data.optional,
        "NotifyDisableIEOptions": policy,
        "iexplore_exists": reg.get("iexplore"),
    }
    if on is False:
        return _finding(
            Outcome.EFFECTIVE, f"Internet Explorer 11 is disabled or removed: {text}", observed
        )
    if on is True:
        if policy is not None and (isinstance(policy, bool) or policy not in _POLICY_VALUES):
            return _finding(
                Outcome.NO_VISIBILITY,
                f"{text}; NotifyDisableIEOptions is {policy!r}, not a value the policy 'Disable "
                f"Internet Explorer 11 as a standalone browser' writes (0, 1 or 2), so whether "
                f"IE11 is disabled is not shown",
                observed,
            )
        if policy is not None:
            return _finding(
                Outcome.EFFECTIVE,
                f"{text}, but the machine policy 'Disable Internet Explorer 11 as a standalone "
                f"browser' is set (NotifyDisableIEOptions = {policy}); ASD also advises an "
                f"application-control deny rule for iexplore.exe (not read here)",
                observed,
            )
        return _finding(
            Outcome.INEFFECTIVE,
            f"Internet Explorer 11 is enabled ({text}) and the policy disabling it as a standalone "
            f"browser is not set",
            observed,
        )
    if reg.get("iexplore") is False:
        return _finding(
            Outcome.EFFECTIVE,
            f"{text}; %ProgramFiles%\\Internet Explorer\\iexplore.exe does not exist, so IE11 is "
            f"removed (fallback: the feature state itself was not read)",
            observed,
        )
    return _finding(
        Outcome.NO_VISIBILITY,
        f"{text}; iexplore.exe exists or was not checked, so IE11's state is unknown",
        observed,
    )


CHECK = Check(
    id="user_app_hardening.windows_ie11",
    title="Internet Explorer 11 is disabled or removed",
    strategy=Strategy.USER_APP_HARDENING,
    ism=("ISM-1654",),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"features": IE11_FEATURES.cmd},
    judge=judge,
    version=2,
)
