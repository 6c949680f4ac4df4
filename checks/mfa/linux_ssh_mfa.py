"""Linux: does every way of logging in over SSH need two factors, and is one phishing-resistant?

**Collected:** the effective sshd configuration, ``sshd -T`` (root), and the PAM files that the
sshd stack uses: ``/etc/pam.d/sshd`` and the usual includes ``common-auth`` (Debian/Ubuntu),
``system-auth``, ``password-auth`` and ``postlogin`` (RHEL family), each after a ``### <path>``
marker.

**How a login path is judged.** ``authenticationmethods`` lists the method combinations sshd
demands; ``any`` means each enabled method (``pubkeyauthentication``, ``passwordauthentication``,
``kbdinteractiveauthentication``/``challengeresponseauthentication``, ``gssapiauthentication``,
``hostbasedauthentication``) works alone. Each method gives factors:
- ``password``, ``gssapi-with-mic``: something you know;
- ``publickey``: something you have; phishing-resistant only when ``pubkeyacceptedalgorithms``
  admits FIDO security keys alone (``sk-*``), and counted as "something you have unlocked by
  something you know/are" (MFA on its own) only with ``pubkeyauthoptions verify-required``. An
  ordinary key file is one factor, not phishing-resistant (its passphrase is invisible to the
  server, reference §2.3);
- ``keyboard-interactive`` with ``usepam yes``: what the PAM ``auth`` stack (following
  ``@include``, ``include`` and ``substack``) enforces — a password module (pam_unix, pam_sss,
  pam_ldap, pam_krb5, pam_winbind) is something you know; ``pam_u2f``, ``pam_pkcs11``, ``pam_p11``
  are phishing-resistant possession factors; ``pam_google_authenticator``, ``pam_oath``,
  ``pam_duo``, ``pam_yubico``, ``pam_radius_auth`` are possession factors that are not
  phishing-resistant. A second-factor module counts only when its control is ``required``,
  ``requisite`` or a ``[...]`` control with ``default=die``/``default=bad``; ``sufficient`` or
  ``optional`` make it bypassable, and ``nullok``/``nouserok`` let unenrolled users skip it. A Duo
  ``ForceCommand login_duo`` adds a non-phishing-resistant factor to every path.
A path is MFA when it combines a possession factor with a knowledge factor, or is a FIDO key with
user verification; it is phishing-resistant when that possession factor is.

**Outcomes** (sshd is a logon path for privileged and unprivileged users alike):
- ISM-1401 (ML1-3, accepted factor combinations), ISM-1173 (ML2-3, MFA for privileged users),
  ISM-0974 (ML2-3, MFA for unprivileged users): effective when every SSH login path is MFA,
  ineffective when any path is single-factor ("no MFA");
- ISM-1682 (ML2-3, MFA is phishing-resistant): effective only when every path is MFA with a
  phishing-resistant factor;
- ISM-1504 (ML1-3, MFA for the organisation's online services): judged like ISM-1401 for
  internet-facing hosts (sshd as an online service); not_applicable otherwise;
- no_visibility when ``sshd -T`` is refused or fails; when sshd is not installed, SSH is not a
  logon path: ISM-1504 is not_applicable and the others not_assessed (console logon is not
  judged here).

Caveats: ``sshd -T`` without ``-C`` does not evaluate ``Match`` blocks (a ``Match`` may relax the
methods for some users); whether users have actually enrolled a token, and smart-card use through
pam_sss (``pam_cert_auth``), are not visible; MFA event logging (ISM-1683) is not judged here.
Evidence grade: good.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from checks.facts.fact import Unknown
from checks.facts.linux.pam import PAM_SSHD_STACK
from checks.facts.linux.sshd import SSHD, Sshd
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

PASSWORD_MODULES = {"pam_unix", "pam_sss", "pam_ldap", "pam_krb5", "pam_winbind"}
PR_MODULES = {"pam_u2f", "pam_pkcs11", "pam_p11"}
OTP_MODULES = {"pam_google_authenticator", "pam_oath", "pam_duo", "pam_yubico", "pam_radius_auth"}
CHECK_ISM = ("ISM-1401", "ISM-1173", "ISM-0974", "ISM-1682", "ISM-1504")

KNOW, HAVE, HAVE_PR = "know", "have", "have_pr"


def _auth_lines(files: Mapping[str, list[str]], name: str, seen: frozenset[str]) -> list[str]:
    """The ``auth`` lines of a PAM service, includes expanded; names of missing files noted."""
    if name not in files:
        # Only a missing file that holds auth rules matters (common-account etc. do not).
        return [f"MISSING {name}"] if "auth" in name or name == "sshd" else []
    if name in seen:
        return []
    out: list[str] = []
    for raw in files[name]:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("@include"):
            out += _auth_lines(files, line.split()[1], seen | {name})
            continue
        parts = line.split()
        if parts[0].lstrip("-") != "auth" or len(parts) < 3:
            continue
        if parts[1] in ("include", "substack"):
            out += _auth_lines(files, parts[2], seen | {name})
        else:
            out.append(line.lstrip("-"))
    return out


def _pam_factors(lines: list[str]) -> tuple[set[str], list[str]]:
    factors: set[str] = set()
    notes: list[str] = []
    for line in lines:
        if line.startswith("MISSING "):
            notes.append(f"PAM file {line[8:]} not collected")
            continue
        m = re.match(r"^auth\s+(\[[^\]]*\]|\S+)\s+(\S+)\s*(.*)$", line)
        if not m:
            continue
        control, module, args = m.groups()
        base = module.rsplit("/", 1)[-1].removesuffix(".so")
        if base in PASSWORD_MODULES:
            factors.add(KNOW)
            continue
        if base not in PR_MODULES | OTP_MODULES:
            continue
        enforced = control in ("required", "requisite") or (
            control.startswith("[") and re.search(r"default=(die|bad)", control) is not None
        )
        skip = re.search(r"\b(nullok|nouserok)\b", args)
        if not enforced:
            notes.append(f"{base} is '{control}' (bypassable)")
        elif skip:
            notes.append(f"{base} has {skip.group(1)} (unenrolled users skip it)")
        else:
            factors.add(HAVE_PR if base in PR_MODULES else HAVE)
            notes.append(f"{base} {control}")
    return factors, notes


def _method_lists(conf: Sshd) -> list[list[str]]:
    am = conf.value("authenticationmethods", default="any")
    if am != "any":
        return [lst.split(",") for lst in am.split()]
    enabled = {
        "publickey": conf.value("pubkeyauthentication", default="yes"),
        "password": conf.value("passwordauthentication", default="yes"),
        "keyboard-interactive": conf.value(
            "kbdinteractiveauthentication", "challengeresponseauthentication", default="yes"
        ),
        "gssapi-with-mic": conf.value("gssapiauthentication", default="no"),
        "hostbased": conf.value("hostbasedauthentication", default="no"),
    }
    return [[method] for method, value in enabled.items() if value == "yes"]


def _assess(
    conf: Sshd, pam_files: Mapping[str, list[str]]
) -> tuple[bool, bool, list[str], dict[str, object]]:
    """(every path MFA, every path phishing-resistant MFA, per-path descriptions, observed)."""
    algos = conf.value("pubkeyacceptedalgorithms", "pubkeyacceptedkeytypes")
    sk_only = bool(algos) and all(a.startswith("sk-") for a in algos.split(","))
    verify = "verify-required" in conf.value("pubkeyauthoptions", default="none")
    usepam = conf.value("usepam", default="no") == "yes"
    force = conf.value("forcecommand", default="none")
    pam_factors, pam_notes = _pam_factors(_auth_lines(pam_files, "sshd", frozenset()))
    lists = _method_lists(conf)
    all_mfa = all_pr = True
    paths: list[str] = []
    for methods in lists:
        factors: set[str] = set()
        for method in methods:
            name = method.split(":", 1)[0]
            if name == "publickey":
                factors |= (
                    {HAVE_PR, KNOW} if sk_only and verify else {HAVE_PR} if sk_only else {HAVE}
                )
            elif name in ("password", "gssapi-with-mic"):
                factors.add(KNOW)
            elif name == "keyboard-interactive":
                factors |= pam_factors if usepam else {KNOW}
        if "login_duo" in force:
            factors.add(HAVE)
        has_have = bool(factors & {HAVE, HAVE_PR})
        mfa = has_have and KNOW in factors
        pr = mfa and HAVE_PR in factors
        all_mfa &= mfa
        all_pr &= pr
        kind = "phishing-resistant MFA" if pr else "MFA" if mfa else "single factor"
        paths.append(f"{'+'.join(methods)}: {kind}")
    observed: dict[str, object] = {
        "authenticationmethods": conf.value("authenticationmethods", default="any"),
        "paths": paths,
        "usepam": usepam,
        "pam": pam_notes,
        "sk_keys_only": sk_only,
        "verify_required": verify,
    }
    return all_mfa, all_pr, paths, observed


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    sshd = outputs.get("sshd")
    na_1504 = (
        None
        if ctx.internet_facing
        else Finding(
            ism="ISM-1504",
            outcome=Outcome.NOT_APPLICABLE,
            evidence="host is not internet-facing: sshd is not an online service",
        )
    )
    conf = SSHD.read(sshd)
    if isinstance(conf, Sshd) and not conf.installed:
        text = "sshd is not installed: SSH is not a logon path (console logon not judged here)"
        return [
            Finding(ism="ISM-1504", outcome=Outcome.NOT_APPLICABLE, evidence=text)
            if i == "ISM-1504"
            else Finding(ism=i, outcome=Outcome.NOT_ASSESSED, evidence=text)
            for i in CHECK_ISM
        ]
    if isinstance(conf, Unknown):
        reason = f"sshd configuration not readable: {conf.reason}"
        return [
            na_1504
            if i == "ISM-1504" and na_1504 is not None
            else Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=reason)
            for i in CHECK_ISM
        ]
    pam = PAM_SSHD_STACK.read(outputs.get("pam"))
    all_mfa, all_pr, paths, observed = _assess(conf, {} if isinstance(pam, Unknown) else pam)
    described = "; ".join(paths) or "no SSH authentication method enabled"
    notes = observed["pam"]
    pam_note = f" [PAM: {', '.join(map(str, notes))}]" if isinstance(notes, list) and notes else ""
    mfa_outcome = Outcome.EFFECTIVE if all_mfa else Outcome.INEFFECTIVE
    mfa_text = (
        "every SSH login path needs two factors: " if all_mfa else "no MFA on SSH: "
    ) + described
    pr_outcome = Outcome.EFFECTIVE if all_pr else Outcome.INEFFECTIVE
    pr_text = (
        "every SSH login path uses a phishing-resistant factor: "
        if all_pr
        else "SSH MFA is not phishing-resistant on every path: "
    ) + described
    findings = []
    for ism in CHECK_ISM:
        if ism == "ISM-1504" and na_1504 is not None:
            findings.append(na_1504)
        elif ism == "ISM-1682":
            findings.append(
                Finding(ism=ism, outcome=pr_outcome, evidence=pr_text + pam_note, observed=observed)
            )
        else:
            findings.append(
                Finding(
                    ism=ism, outcome=mfa_outcome, evidence=mfa_text + pam_note, observed=observed
                )
            )
    return findings


CHECK = Check(
    id="mfa.linux_ssh_mfa",
    title="Linux SSH logins require (phishing-resistant) multi-factor authentication",
    strategy=Strategy.MFA,
    ism=CHECK_ISM,
    platforms=frozenset({Platform.LINUX}),
    collect={"sshd": SSHD.cmd, "pam": PAM_SSHD_STACK.cmd},
    judge=judge,
    version=1,
)
