"""The PAM ``auth`` stack evaluated the way libpam runs it: which factors does every successful
path through it prove?

libpam (``libpam/pam_dispatch.c``, ``_pam_dispatch_aux``) walks the stack with two pieces of
state, the *impression* (undefined, positive, negative) and the *status*; each module's return
value picks an action from its control:

- ``required`` = ``[success=ok new_authtok_reqd=ok ignore=ignore default=bad]``;
  ``requisite`` = the same with ``default=die``; ``sufficient`` =
  ``[success=done new_authtok_reqd=done default=ignore]``; ``optional`` =
  ``[success=ok new_authtok_reqd=ok default=ignore]``; a ``[value=action …]`` control names its
  own (a value it does not name, with no ``default``, is ``bad``);
- ``ok``/``done``: positive when nothing failed before; ``done`` then ends the stack — only when
  the impression is positive; ``bad``/``die``: negative (``die`` ends the stack); ``ignore``:
  nothing; ``reset``: back to the state on entering the (sub)stack; ``N``: skip the next N lines;
- ``include`` / ``@include``: the file's ``auth`` lines inlined (a ``done`` in them ends the whole
  stack, a jump counts them one by one); ``substack``: the file's lines as a nested stack —
  ``done``/``die`` end only the substack, and a jump in the parent skips the whole substack as
  one line;
- the stack succeeds when the final impression is positive and the status is success.

Each module is modelled by the return values it can give and what a success proves:
password modules (:data:`PASSWORD_MODULES`) prove something you know; second-factor modules
(:data:`PR_MODULES`, :data:`OTP_MODULES`) something you have — and with ``nullok``/``nouserok``
they also succeed (or ignore) for a user with no token, proving nothing; ``pam_permit`` always
succeeds proving nothing, ``pam_deny`` always fails; any other module (``pam_env``,
``pam_faillock``, ``pam_usertype``, ``pam_succeed_if`` …) may succeed, fail or ignore and proves
nothing. ``pam_unix nullok`` is a success without a password only when sshd's
``PermitEmptyPasswords`` is yes (otherwise sshd passes ``PAM_DISALLOW_NULL_AUTHTOK``). A line
prefixed ``-`` may be a module that is not installed (``module_unknown``).

Every path is enumerated (memoised on the state, so the walk stays small); the answer is the set
of factor combinations over the successful paths. A file the stack includes that was not
collected makes the answer unknown. Files named like ``common-account`` /
``common-session`` / ``common-password`` (no ``auth`` in the name) are taken to hold no ``auth``
lines when they were not collected, as distributions ship them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from checks.facts.fact import Unknown

PASSWORD_MODULES = frozenset({"pam_unix", "pam_sss", "pam_ldap", "pam_krb5", "pam_winbind"})
PR_MODULES = frozenset({"pam_u2f", "pam_pkcs11", "pam_p11"})
OTP_MODULES = frozenset(
    {"pam_google_authenticator", "pam_oath", "pam_duo", "pam_yubico", "pam_radius_auth"}
)
KNOW, HAVE, HAVE_PR = "know", "have", "have_pr"

UNDEF, POSITIVE, NEGATIVE = 0, 1, 2
SUCCESS, FAIL = "success", "fail"
_CONTROLS = {
    "required": {"success": "ok", "new_authtok_reqd": "ok", "ignore": "ignore", "default": "bad"},
    "requisite": {"success": "ok", "new_authtok_reqd": "ok", "ignore": "ignore", "default": "die"},
    "sufficient": {"success": "done", "new_authtok_reqd": "done", "default": "ignore"},
    "optional": {"success": "ok", "new_authtok_reqd": "ok", "default": "ignore"},
}


@dataclass(frozen=True)
class Line:
    """One ``auth`` line of the flattened stack; ``substack`` marks the line that opens a
    nested stack (its lines follow at ``level + 1``)."""

    level: int
    control: str
    actions: tuple[tuple[str, str], ...]
    module: str
    args: str
    optional_module: bool  # "-auth": the module may not be installed
    substack: bool = False

    def action(self, retval: str) -> str:
        table = dict(self.actions)
        return table.get(retval, table.get("default", "bad"))


@dataclass(frozen=True)
class StackResult:
    """``paths``: for each successful path, the factors it proved; ``notes``: what was seen."""

    paths: frozenset[frozenset[str]]
    notes: tuple[str, ...]


def _actions(control: str) -> tuple[tuple[str, str], ...] | None:
    if control in _CONTROLS:
        return tuple(_CONTROLS[control].items())
    if control.startswith("[") and control.endswith("]"):
        pairs = [p.partition("=") for p in control[1:-1].split()]
        return tuple((k.lower(), v.lower()) for k, sep, v in pairs if sep)
    return None


def flatten(files: Mapping[str, list[str]], service: str = "sshd") -> list[Line] | Unknown:
    """The ``auth`` lines of ``service``, includes inlined and substacks nested."""
    out: list[Line] = []

    def walk(name: str, level: int, seen: frozenset[str]) -> Unknown | None:
        if name not in files:
            if "auth" in name or name == service:
                return Unknown(f"PAM file {name} (in the sshd auth stack) was not collected")
            return None
        if name in seen:
            return Unknown(f"PAM file {name} includes itself")
        for raw in files[name]:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("@include"):
                parts = line.split()
                if len(parts) < 2:
                    continue
                why = walk(parts[1].rsplit("/", 1)[-1], level, seen | {name})
                if why is not None:
                    return why
                continue
            m = re.match(r"^(-?)auth\s+(\[[^\]]*\]|\S+)\s+(\S+)\s*(.*)$", line, re.IGNORECASE)
            if not m:
                continue
            dash, control, module, args = m.groups()
            if control in ("include", "substack"):
                target = module.rsplit("/", 1)[-1]
                if control == "substack":
                    out.append(Line(level, control, (), target, "", False, substack=True))
                why = walk(target, level + (control == "substack"), seen | {name})
                if why is not None:
                    return why
                continue
            actions = _actions(control)
            if actions is None:
                return Unknown(f"PAM control '{control}' in {name} not understood")
            base = module.rsplit("/", 1)[-1].removesuffix(".so")
            out.append(Line(level, control, actions, base, args, bool(dash)))
        return None

    why = walk(service, 0, frozenset())
    return why if why is not None else out


def _returns(line: Line, permit_empty: bool) -> list[tuple[str, frozenset[str]]]:
    """The return values a module can give, each with the factors its success proves."""
    base = line.module
    skip = re.search(r"\b(nullok|nouserok)\b", line.args) is not None
    none: frozenset[str] = frozenset()
    rets: list[tuple[str, frozenset[str]]]
    if base == "pam_deny":
        rets = [("auth_err", none)]
    elif base == "pam_permit":
        rets = [("success", none)]
    elif base in PASSWORD_MODULES:
        rets = [("success", frozenset({KNOW})), ("auth_err", none), ("user_unknown", none)]
        rets.append(("authinfo_unavail", none))
        if base == "pam_unix" and skip and permit_empty:
            rets.append(("success", none))
    elif base in PR_MODULES | OTP_MODULES:
        proof = frozenset({HAVE_PR if base in PR_MODULES else HAVE})
        rets = [("success", proof), ("auth_err", none)]
        if skip:
            rets += [("success", none), ("ignore", none)]
    else:
        rets = [("success", none), ("auth_err", none), ("ignore", none)]
    if line.optional_module:
        rets.append(("module_unknown", none))
    return rets


def evaluate(lines: list[Line], *, permit_empty: bool = False) -> frozenset[frozenset[str]]:
    """The factor sets proved on every successful path (empty: no path succeeds)."""
    n = len(lines)
    lvl_of = [ln.level for ln in lines]

    def after_skip(i: int, count: int) -> tuple[int, bool]:
        """Index after skipping ``count`` lines at line i's level (nested ones count as part of
        their opener); False when the jump runs off the stack."""
        level = lvl_of[i]
        j = i
        while j + 1 < n and lvl_of[j + 1] >= level and count > 0:
            j += 1
            while j + 1 < n and lvl_of[j + 1] > level:
                j += 1
            count -= 1
        return j + 1, count == 0

    def end_of_level(i: int) -> int:
        level = lvl_of[i]
        j = i
        while j + 1 < n and lvl_of[j + 1] >= level:
            j += 1
        return j + 1

    @cache
    def walk(
        i: int,
        imp: int,
        st: str,
        proof: frozenset[str],
        subs: tuple[tuple[int, str], ...],
        prev: int,
    ) -> frozenset[frozenset[str]]:
        if i >= n:
            return frozenset({proof}) if imp == POSITIVE and st == SUCCESS else frozenset()
        line = lines[i]
        level = line.level
        if prev < level:
            subs = subs[:level] + ((imp, st),)
        if line.substack:
            return walk(i + 1, imp, st, proof, subs, level)
        found: set[frozenset[str]] = set()
        for retval, proves in _returns(line, permit_empty):
            p = proof | proves if retval == "success" else proof
            rv = SUCCESS if retval == "success" else FAIL
            action = line.action(retval)
            nimp, nst, nxt = imp, st, i + 1
            if action == "reset":
                nimp, nst = subs[level] if level < len(subs) else (UNDEF, FAIL)
            elif action in ("ok", "done"):
                if (imp == UNDEF or (imp == POSITIVE and st == SUCCESS)) and retval != "ignore":
                    nimp, nst = POSITIVE, rv
                if nimp == POSITIVE and action == "done":
                    nxt = end_of_level(i)
            elif action in ("bad", "die"):
                if imp != NEGATIVE:
                    nimp, nst = NEGATIVE, FAIL
                if action == "die":
                    nxt = end_of_level(i)
            elif action.isdigit():
                nxt, ok = after_skip(i, int(action))
                if not ok:
                    nimp, nst = NEGATIVE, FAIL
            elif action != "ignore":
                nimp, nst = NEGATIVE, FAIL  # an action libpam does not know: a config error
            found |= walk(nxt, nimp, nst, p, subs, level)
        return frozenset(found)

    return walk(0, UNDEF, FAIL, frozenset(), ((UNDEF, FAIL),), 0)


def stack_factors(
    files: Mapping[str, list[str]], *, permit_empty: bool = False
) -> StackResult | Unknown:
    """What the sshd ``auth`` stack proves on each successful path, and notes for the evidence."""
    lines = flatten(files)
    if isinstance(lines, Unknown):
        return lines
    notes: list[str] = []
    for ln in lines:
        if ln.module in PR_MODULES | OTP_MODULES and not ln.substack:
            skip = re.search(r"\b(nullok|nouserok)\b", ln.args)
            notes.append(
                f"{ln.module} {ln.control}"
                + (f" {skip.group(1)} (unenrolled users skip it)" if skip else "")
            )
    return StackResult(paths=evaluate(lines, permit_empty=permit_empty), notes=tuple(notes))
