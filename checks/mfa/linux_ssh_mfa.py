"""Linux: does every way of logging in over SSH need two factors, and is one phishing-resistant?

**Collected:** the effective sshd configuration, ``sshd -T`` (root); the configuration files as
written (fact ``linux.sshd_config_files``, root: ``sshd_config``, ``sshd_config.d/*.conf`` and
RHEL's crypto-policy include) for the ``Match`` blocks that ``sshd -T`` does not show; and the PAM
files that the sshd stack uses: ``/etc/pam.d/sshd`` and the usual includes ``common-auth``
(Debian/Ubuntu), ``system-auth``, ``password-auth`` and ``postlogin`` (RHEL family), each after a
``### <path>`` marker.

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
- ``keyboard-interactive`` with ``usepam yes``: what the PAM ``auth`` stack proves on **every**
  successful path through it, evaluated the way libpam runs it (``checks/mfa/_pam_stack.py``:
  control values, ``[value=action]`` jumps, ``include``/``@include`` inlined so that a
  ``sufficient`` success ends the whole stack, ``substack`` nested) — a password module (pam_unix,
  pam_sss, pam_ldap, pam_krb5, pam_winbind) is something you know; ``pam_u2f``, ``pam_pkcs11``,
  ``pam_p11`` are phishing-resistant possession factors; ``pam_google_authenticator``,
  ``pam_oath``, ``pam_duo``, ``pam_yubico``, ``pam_radius_auth`` are possession factors that are
  not phishing-resistant; ``nullok``/``nouserok`` let unenrolled users pass without it. A second
  factor placed after a ``sufficient`` password module that ends the stack is never asked. The
  path is as weak as its weakest way through the stack. A Duo ``ForceCommand login_duo`` adds a
  non-phishing-resistant factor to every path.
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
- ``Match`` blocks: ``sshd -T`` without ``-C`` shows the global view only. Every ``Match`` block
  that sets an authentication keyword (``AuthenticationMethods``, ``*Authentication``,
  ``PubkeyAccepted*``, ``PubkeyAuthOptions``, ``PermitEmptyPasswords``, ``ForceCommand``) is judged
  as the global view with its settings applied; when the global view is MFA but a block's view is
  not, the controls are no_visibility naming the block (whether it matches administrators or other
  users is not judged);
- no_visibility when ``sshd -T`` or the configuration files are refused or fail, when
  ``sshd_config`` includes a file the command does not read, or when keyboard-interactive through
  PAM is a method and the PAM stack (or a file it includes) was not read; when sshd is not
  installed, SSH is not a logon path: ISM-1504 is not_applicable and the others not_assessed
  (console logon is not judged here).

Caveats: whether users have actually enrolled a token, Duo's fail mode (``failmode = safe`` in
``pam_duo.conf`` lets users in when Duo is unreachable; not read), and smart-card use through
pam_sss (``pam_cert_auth``) are not visible; MFA event logging (ISM-1683) is not judged here.
Evidence grade: good.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from checks.facts.fact import Unknown
from checks.facts.linux.pam import PAM_SSHD_STACK
from checks.facts.linux.sshd import SSHD, SSHD_FILES, MatchBlock, Sshd, SshdFiles
from checks.mfa._pam_stack import HAVE, HAVE_PR, KNOW, stack_factors
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

CHECK_ISM = ("ISM-1401", "ISM-1173", "ISM-0974", "ISM-1682", "ISM-1504")
# The sshd keywords that decide how a login authenticates (a Match block setting one of them
# gives the connections it matches another set of login paths).
AUTH_KEYS = frozenset(
    {
        "authenticationmethods",
        "passwordauthentication",
        "pubkeyauthentication",
        "kbdinteractiveauthentication",
        "challengeresponseauthentication",
        "gssapiauthentication",
        "hostbasedauthentication",
        "pubkeyacceptedalgorithms",
        "pubkeyacceptedkeytypes",
        "pubkeyauthoptions",
        "permitemptypasswords",
        "forcecommand",
    }
)
PamFactors = frozenset[frozenset[str]]


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


def _uses_pam(conf: Sshd) -> bool:
    """keyboard-interactive through PAM is one of the accepted methods."""
    return conf.value("usepam", default="no") == "yes" and any(
        m.split(":", 1)[0] == "keyboard-interactive" for lst in _method_lists(conf) for m in lst
    )


def _assess(conf: Sshd, pam_paths: PamFactors) -> tuple[bool, bool, list[str], dict[str, object]]:
    """(every path MFA, every path phishing-resistant MFA, per-path descriptions, observed).
    ``pam_paths``: the factor sets the PAM auth stack proves on each of its successful paths."""
    algos = conf.value("pubkeyacceptedalgorithms", "pubkeyacceptedkeytypes")
    sk_only = bool(algos) and all(a.startswith("sk-") for a in algos.split(","))
    verify = "verify-required" in conf.value("pubkeyauthoptions", default="none")
    usepam = conf.value("usepam", default="no") == "yes"
    force = conf.value("forcecommand", default="none")
    all_mfa = all_pr = True
    paths: list[str] = []
    for methods in _method_lists(conf):
        base: set[str] = set()
        pam_variants: list[frozenset[str]] = [frozenset()]
        for method in methods:
            name = method.split(":", 1)[0]
            if name == "publickey":
                base |= {HAVE_PR, KNOW} if sk_only and verify else {HAVE_PR} if sk_only else {HAVE}
            elif name in ("password", "gssapi-with-mic"):
                base.add(KNOW)
            elif name == "keyboard-interactive":
                if usepam:
                    pam_variants = list(pam_paths) or [frozenset()]
                else:
                    base.add(KNOW)
        if "login_duo" in force:
            base.add(HAVE)
        # the path is as weak as its weakest way through the PAM stack
        mfa = pr = True
        for variant in pam_variants:
            factors = base | variant
            one_mfa = bool(factors & {HAVE, HAVE_PR}) and KNOW in factors
            mfa &= one_mfa
            pr &= one_mfa and HAVE_PR in factors
        all_mfa &= mfa
        all_pr &= pr
        kind = "phishing-resistant MFA" if pr else "MFA" if mfa else "single factor"
        paths.append(f"{'+'.join(methods)}: {kind}")
    observed: dict[str, object] = {
        "authenticationmethods": conf.value("authenticationmethods", default="any"),
        "paths": paths,
        "usepam": usepam,
        "pam_paths": sorted("+".join(sorted(p)) or "no factor" for p in pam_paths),
        "sk_keys_only": sk_only,
        "verify_required": verify,
    }
    return all_mfa, all_pr, paths, observed


def _match_view(conf: Sshd, block: MatchBlock) -> Sshd:
    """The global configuration with a Match block's authentication settings applied."""
    options = dict(conf.options)
    for key, values in block.options.items():
        if key in AUTH_KEYS:
            options[key] = [v.lower() if v.lower() in ("yes", "no") else v for v in values]
    return Sshd(installed=True, options=options)


def _uncovered_includes(files: SshdFiles) -> list[str]:
    """Include patterns whose files the command does not read (a pattern inside the collected
    drop-in folder, or one naming a file that was printed, is covered)."""
    return [
        inc
        for inc in files.includes
        if not (inc.startswith("/etc/ssh/sshd_config.d/") and inc.endswith(".conf"))
        and not any(fnmatch.fnmatch(f, inc) for f in files.files)
    ]


def _all(outcome: Outcome, text: str, na_1504: Finding | None) -> list[Finding]:
    return [
        na_1504
        if i == "ISM-1504" and na_1504 is not None
        else Finding(ism=i, outcome=outcome, evidence=text)
        for i in CHECK_ISM
    ]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    na_1504 = (
        None
        if ctx.internet_facing
        else Finding(
            ism="ISM-1504",
            outcome=Outcome.NOT_APPLICABLE,
            evidence="host is not internet-facing: sshd is not an online service",
        )
    )
    conf = SSHD.read(outputs.get("sshd"))
    if isinstance(conf, Sshd) and not conf.installed:
        text = "sshd is not installed: SSH is not a logon path (console logon not judged here)"
        return [
            Finding(ism="ISM-1504", outcome=Outcome.NOT_APPLICABLE, evidence=text)
            if i == "ISM-1504"
            else Finding(ism=i, outcome=Outcome.NOT_ASSESSED, evidence=text)
            for i in CHECK_ISM
        ]
    if isinstance(conf, Unknown):
        return _all(
            Outcome.NO_VISIBILITY, f"sshd configuration not readable: {conf.reason}", na_1504
        )
    files = SSHD_FILES.read(outputs.get("sshd_files"))
    if isinstance(files, Unknown):
        return _all(
            Outcome.NO_VISIBILITY,
            f"sshd configuration files not read, so Match blocks (per-user/address settings "
            f"that sshd -T does not show) are unknown: {files.reason}",
            na_1504,
        )
    uncovered = _uncovered_includes(files)
    if uncovered:
        return _all(
            Outcome.NO_VISIBILITY,
            f"sshd_config includes {', '.join(uncovered[:3])}, which was not read (it may hold "
            f"Match blocks that change authentication)",
            na_1504,
        )
    auth_matches = [b for b in files.matches if AUTH_KEYS & set(b.options)]
    views = [("global", conf)] + [
        (f"Match {b.criteria} ({b.path})", _match_view(conf, b)) for b in auth_matches
    ]
    pam_paths: PamFactors = frozenset()
    pam_notes: list[str] = []
    if any(_uses_pam(view) for _, view in views):
        pam_files = PAM_SSHD_STACK.read(outputs.get("pam"))
        pam = pam_files if isinstance(pam_files, Unknown) else stack_factors(pam_files)
        if isinstance(pam, Unknown):
            return _all(
                Outcome.NO_VISIBILITY,
                f"keyboard-interactive logins go through PAM, whose sshd auth stack was not "
                f"read: {pam.reason}",
                na_1504,
            )
        pam_paths = pam.paths
        pam_notes = list(pam.notes)
    judged = [(name, *_assess(view, pam_paths)) for name, view in views]
    _, all_mfa, all_pr, paths, observed = judged[0]
    observed["pam"] = pam_notes
    if auth_matches:
        observed["match_blocks"] = [f"{name}: {'; '.join(p)}" for name, _, _, p, _ in judged[1:]]
    weak_matches = [name for name, mfa, _, _, _ in judged[1:] if not mfa]
    weak_pr_matches = [name for name, _, pr, _, _ in judged[1:] if not pr]
    described = "; ".join(paths) or "no SSH authentication method enabled"
    pam_note = f" [PAM: {', '.join(pam_notes)}]" if pam_notes else ""
    match_note = (
        f" (Match blocks judged too: {', '.join(n for n, *_ in judged[1:])})"
        if auth_matches
        else ""
    )
    findings = []
    for ism in CHECK_ISM:
        if ism == "ISM-1504" and na_1504 is not None:
            findings.append(na_1504)
            continue
        pr_control = ism == "ISM-1682"
        ok = all_pr if pr_control else all_mfa
        weak = weak_pr_matches if pr_control else weak_matches
        what = "a phishing-resistant factor" if pr_control else "two factors"
        if not ok:
            outcome = Outcome.INEFFECTIVE
            text = (
                "SSH MFA is not phishing-resistant on every path: "
                if pr_control
                else "no MFA on SSH: "
            ) + described
        elif weak:
            outcome = Outcome.NO_VISIBILITY
            text = (
                f"the global sshd configuration needs {what} on every path ({described}), but "
                f"{'; '.join(weak[:3])} relaxes it for the connections it matches; whether "
                f"those are administrators or other users is not judged"
            )
        else:
            outcome = Outcome.EFFECTIVE
            text = f"every SSH login path needs {what}: {described}{match_note}"
        findings.append(
            Finding(ism=ism, outcome=outcome, evidence=text + pam_note, observed=observed)
        )
    return findings


CHECK = Check(
    id="mfa.linux_ssh_mfa",
    title="Linux SSH logins require (phishing-resistant) multi-factor authentication",
    strategy=Strategy.MFA,
    ism=CHECK_ISM,
    platforms=frozenset({Platform.LINUX}),
    collect={"sshd": SSHD.cmd, "sshd_files": SSHD_FILES.cmd, "pam": PAM_SSHD_STACK.cmd},
    judge=judge,
    version=2,  # v2: PAM evaluated as libpam runs it; Match blocks read from the config files
    # ``pam`` is needed, and read, only when keyboard-interactive through PAM is an accepted
    # method; the judge gives no_visibility then when the PAM stack is unread.
    rests_on=dict.fromkeys(CHECK_ISM, ("sshd", "sshd_files")),
)
