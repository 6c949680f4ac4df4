"""Linux: is application control (fapolicyd) enforcing, and what does its rule set cover?

**Collected (read-only; facts ``linux.fapolicyd_state`` / ``_conf`` / ``_rules`` and
``linux.temp_mounts``):**
- ``state``: ``systemctl is-active`` / ``is-enabled fapolicyd`` and whether the daemon is
  installed;
- ``conf`` (root): ``/etc/fapolicyd/fapolicyd.conf`` (``permissive``: 0 enforcing, 1 audit only);
- ``rules`` (root): ``/etc/fapolicyd/compiled.rules``, ``rules.d/*.rules`` and the legacy
  ``fapolicyd.rules``. fapolicyd loads ``compiled.rules`` (built from ``rules.d`` by fagenrules)
  when present, else ``rules.d``, else ``fapolicyd.rules``; the first matching rule decides;
- ``mounts``: ``findmnt -no TARGET,OPTIONS -T`` for ``/tmp``, ``/var/tmp``, ``/dev/shm`` and
  ``/home`` (``noexec``: reported as supporting evidence only; an unread listing is noted in
  ``observed`` and decides nothing).

SELinux and AppArmor confine services; they are not an executable allowlist and do not count
(essential-eight.md 2.5). ``noexec`` alone is not application control either: interpreters
(``sh x.sh``, ``python x.py``) and ``ld.so`` run files from ``noexec`` mounts.

- **ISM-0843 / ISM-1490 / ISM-1656** (implemented on workstations / internet-facing servers /
  other servers; ``e8_role`` and ``e8_internet_facing`` pick the one that applies, the others are
  not_applicable): effective when fapolicyd is active, ``permissive = 0`` and the first rule that
  matches every subject and object for execution (``perm=execute`` or ``perm=any``, ``all : all``)
  is a deny (``deny_audit perm=execute all : all`` in the default set); ineffective when fapolicyd
  is not installed or not active, permissive, or execution falls through to an allow (or to no
  rule, where fapolicyd allows).
- **ISM-1657** (executables, libraries, scripts, installers restricted) — *partly*, ruleset
  coverage: also needs a deny for untrusted interpreted languages (an object ``ftype=%languages``
  deny, as in ``70-trusted-lang.rules``) and for untrusted shared libraries (an
  ``ftype=application/x-sharedlib`` deny, or a catch-all ``perm=any`` deny). CHM, HTA and CPL are
  Windows formats; package installers run as root through trusted package managers. An allow
  rule for ``ftype=text/x-shellscript`` without ``trust=1`` (the default ``72-shell.rules``) lets
  any user's shell script run, so it makes 1657 ineffective.
- **ISM-1870** (user profiles and temporary folders): ineffective when an allow rule reaching
  execution, for subjects not restricted to root (``uid=0``), names an object ``dir=``/``path=``
  under ``/home``, ``/root``, ``/tmp``, ``/var/tmp``, ``/dev/shm`` or ``/run/user``;
  effective otherwise when enforcing (trust-based rules follow the file, not its folder).
- **ISM-1871** (all other locations) — *partly*: ineffective when such an allow rule names a
  folder outside the system folders (``/usr``, ``/bin``, ``/sbin``, ``/lib*``, ``/boot``,
  ``/etc``, ``/opt``) or ``dir=untrusted``; effective otherwise when enforcing.

Denied reads (no sudo) give no_visibility, and so does a ``fapolicyd.conf`` that is missing or
printed no setting (an empty read is not "permissive = 0"). Other Linux application control products are not
detected (record them as an alternate control). Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.application_control._rules import (
    SYSTEM_DIRS,
    USER_WRITABLE_DIRS,
    FaRule,
    all_findings,
    allow_dirs,
    class_findings,
    effective_rules,
    first_catch_all,
    under,
)
from checks.facts.fact import Unknown
from checks.facts.linux.fapolicyd import FAPOLICYD_CONF, FAPOLICYD_RULES, FAPOLICYD_STATE
from checks.facts.linux.temp_mounts import TEMP_MOUNTS
from checks.facts.reading import first_line
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy

ISM = ("ISM-0843", "ISM-1490", "ISM-1656", "ISM-1870", "ISM-1657", "ISM-1871")


def _denies_ftype(rules: list[FaRule], needle: str) -> bool:
    return any(r.denies and needle in r.obj for r in rules)


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    state = FAPOLICYD_STATE.read(outputs.get("state"))
    if isinstance(state, Unknown):
        return all_findings(ISM, Outcome.NO_VISIBILITY, f"fapolicyd state not read: {state.reason}")
    # The mounts are supporting evidence only (noexec is not application control): an unread
    # listing is noted, it never decides a verdict.
    mounts = TEMP_MOUNTS.read(outputs.get("mounts"))
    mounts_unread = mounts.reason if isinstance(mounts, Unknown) else None
    seen = {} if isinstance(mounts, Unknown) else mounts
    noexec = sorted(m for m, v in seen.items() if v.noexec)
    exec_ok = sorted(m for m, v in seen.items() if v.noexec is False)
    observed: dict[str, Any] = {
        "fapolicyd_installed": state.installed,
        "fapolicyd_active": state.active,
        "fapolicyd_enabled": state.enabled,
        "noexec_mounts": noexec,
        "exec_mounts": exec_ok,
    }
    if mounts_unread is not None:
        observed["mounts_not_read"] = mounts_unread
    noexec_note = (
        f"; noexec on {', '.join(noexec)} (supporting only: interpreters bypass noexec)"
        if noexec
        else ""
    )

    def fail(why: str) -> list[Finding]:
        evidence = f"{why}{noexec_note}"
        found = {f.ism: f for f in class_findings(ctx, Outcome.INEFFECTIVE, evidence, observed)}
        for ism in ("ISM-1870", "ISM-1657", "ISM-1871"):
            found[ism] = Finding(
                ism=ism, outcome=Outcome.INEFFECTIVE, evidence=evidence, observed=observed
            )
        return [found[i] for i in ISM]

    if state.installed != "yes" and state.active != "active":
        return fail(
            "fapolicyd is not installed: no application control (SELinux/AppArmor and noexec "
            "are not an executable allowlist)"
        )
    if state.active != "active":
        return fail(
            f"fapolicyd is installed but not running (is-active: {state.active or 'unknown'})"
        )
    conf = FAPOLICYD_CONF.read(outputs.get("conf"))
    if isinstance(conf, Unknown):
        return all_findings(ISM, Outcome.NO_VISIBILITY, f"fapolicyd conf not read: {conf.reason}")
    files = FAPOLICYD_RULES.read(outputs.get("rules"))
    if isinstance(files, Unknown):
        return all_findings(ISM, Outcome.NO_VISIBILITY, f"fapolicyd rules not read: {files.reason}")
    if not conf.present or not conf.settings:
        # fapolicyd does not run without its configuration; an empty read is not "enforcing"
        return all_findings(
            ISM,
            Outcome.NO_VISIBILITY,
            "fapolicyd is running but fapolicyd.conf "
            + ("was not found" if not conf.present else "printed no settings")
            + ": whether it enforces (permissive = 0) is not shown",
        )
    # permissive absent from a file that has settings: fapolicyd's documented default, 0
    permissive = conf.settings.get("permissive", "0").strip()
    observed["permissive"] = permissive
    if permissive != "0":
        return fail(
            f"fapolicyd runs with permissive = {permissive}: audit only, nothing is blocked"
        )
    if not any(files.values()):
        err = first_line(outputs["rules"].err)
        return all_findings(
            ISM,
            Outcome.NO_VISIBILITY,
            "fapolicyd is running but no rule file was read"
            + (
                f" ({err})"
                if err
                else " (none of compiled.rules, rules.d/*.rules, fapolicyd.rules)"
            ),
        )
    source, rules = effective_rules(files)
    observed["rules_source"] = source
    observed["rule_count"] = len(rules)
    catch = first_catch_all(rules, lambda r: r.covers_execute)
    observed["execute_catch_all"] = catch.source if catch else None
    if catch is None or not catch.denies:
        how = (
            f"the first catch-all execute rule allows ('{catch.source}')"
            if catch
            else "no catch-all deny for execution (unmatched execution is allowed)"
        )
        return fail(f"fapolicyd is enforcing but {how} in {source}")
    findings = {
        f.ism: f
        for f in class_findings(
            ctx,
            Outcome.EFFECTIVE,
            f"fapolicyd is active, permissive = 0, and untrusted execution is denied by "
            f"'{catch.source}' ({source}){noexec_note}",
            observed,
        )
    }
    # ISM-1657
    scripts = _denies_ftype(rules, "%languages") or _denies_ftype(rules, "text/x-")
    libs = _denies_ftype(rules, "application/x-sharedlib") or (catch.perm == "any" and catch.denies)
    missing = [
        n for n, ok in (("scripts (%languages)", scripts), ("shared libraries", libs)) if not ok
    ]
    shell = [
        r.source
        for r in rules
        if r.allows
        and not r.root_only
        and "text/x-shellscript" in r.obj
        and "trust=1" not in r.obj
        and r.subject == "all"
    ]
    if shell:
        missing.append(f"shell scripts (allowed whatever their trust: '{shell[0]}')")
    if missing:
        findings["ISM-1657"] = Finding(
            ism="ISM-1657",
            outcome=Outcome.INEFFECTIVE,
            evidence=(
                f"fapolicyd rules ({source}) deny untrusted executables but not untrusted "
                f"{', '.join(missing)}"
            ),
            observed=observed,
        )
    else:
        findings["ISM-1657"] = Finding(
            ism="ISM-1657",
            outcome=Outcome.EFFECTIVE,
            evidence=(
                f"ruleset coverage only: fapolicyd ({source}) denies untrusted executables, "
                f"interpreted-language files and shared libraries; no execution test was made"
            ),
            observed=observed,
        )
    # ISM-1870 / ISM-1871
    dirs = allow_dirs(rules)
    user_holes = [
        f"{d} ('{r.source}')" for d, r in dirs if under(d, USER_WRITABLE_DIRS) or d == "/"
    ]
    other_holes = [
        f"{d} ('{r.source}')"
        for d, r in dirs
        if d not in ("execdirs", "systemdirs")
        and not under(d, USER_WRITABLE_DIRS)
        and d != "/"
        and (d == "untrusted" or not under(d, SYSTEM_DIRS))
    ]
    for ism, holes, what in (
        ("ISM-1870", user_holes, "user home and temporary folders"),
        ("ISM-1871", other_holes, "other non-system folders"),
    ):
        if holes:
            findings[ism] = Finding(
                ism=ism,
                outcome=Outcome.INEFFECTIVE,
                evidence=(
                    f"fapolicyd allow rules let non-root users execute from {what}: "
                    f"{'; '.join(holes[:5])}"
                ),
                observed={**observed, "allow_dirs": holes},
            )
        else:
            findings[ism] = Finding(
                ism=ism,
                outcome=Outcome.EFFECTIVE,
                evidence=(
                    f"fapolicyd enforces trust-based execution rules and no allow rule for non-root "
                    f"subjects opens {what}{noexec_note}"
                ),
                observed=observed,
            )
    return [findings[i] for i in ISM]


CHECK = Check(
    id="application_control.linux_fapolicyd",
    title="Linux application control (fapolicyd) enforcing with a deny-by-default execute rule",
    strategy=Strategy.APPLICATION_CONTROL,
    ism=ISM,
    platforms=frozenset({Platform.LINUX}),
    collect={
        "state": FAPOLICYD_STATE.cmd,
        "conf": FAPOLICYD_CONF.cmd,
        "rules": FAPOLICYD_RULES.cmd,
        "mounts": TEMP_MOUNTS.cmd,
    },
    judge=judge,
    version=2,  # v2: an empty/absent fapolicyd.conf is no_visibility, not "permissive = 0"
    grade=Grade.GOOD,
    # ``mounts`` only adds the noexec note (supporting evidence, never a verdict).
    rests_on=dict.fromkeys(ISM, ("state", "conf", "rules")),
)
