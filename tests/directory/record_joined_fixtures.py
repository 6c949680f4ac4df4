"""Write the Windows admin checks' fixtures that join a host to the recorded Samba directory.

``python -m tests.directory.record_joined_fixtures SOURCE`` where SOURCE is the raw record of a
directory scan of the suite's Samba AD DC (``e8scan scan``; the directory host is its first
host) or a check fixture recorded from one
(``tests/checks/restrict_admin.directory_privileged_accounts/samba_population.json``: the
committed fixtures were written from that one, so they share its recording). ``record_fixtures``
calls :func:`write_all` too, so a re-recording of the directory keeps these in step.

The Windows side is not recorded from a Windows host (the suite has none joined to the Samba
domain): it is the recorded-shape ADSI output of
``tests/checks/restrict_admin.windows_stale_admins/recent_local_logons.json`` with the host
renamed WIN01 (the population's computer), its local ``e8-laps`` logon moved 8 days before the
collection, and its CONTOSO members replaced by CORP's ``Domain Admins`` and ``Server-Admins``
(holding Tier0-Operators → tier0-nested) as ADSI names domain members (``WinNT://CORP/<name>``,
class Group, the directory's objectSid). Each fixture's provenance says what was edited.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.directory.record_fixtures import ROOT, edit, ft, outputs

STALE = "restrict_admin.windows_stale_admins"
EXPIRY = "restrict_admin.windows_account_expiry"
DIRECTORY_KEYS = ("domain", "groups", "accounts", "computers", "netbios")
SHAPE = ROOT / STALE / "recent_local_logons.json"
EXPIRY_SHAPE = ROOT / EXPIRY / "workgroup_all_expire_within_12_months.json"
COMPUTER = "WIN01"
LOCAL = "S-1-5-21-4444444444-555555555-666666666"  # the shape fixture's machine SID
CONTOSO = "S-1-5-21-1111111111-2222222222-3333333333"  # the shape fixture's domain SID
WINDOWS_SHAPE = (
    "Windows side: the ADSI WinNT output of tests/checks/restrict_admin.windows_stale_admins/"
    "recent_local_logons.json (constructed in the recorded shape; see its provenance) with the "
    "computer renamed WIN01, e8-laps' LastLogin 8 days before the collection, and its CONTOSO "
    "members replaced by {members} as ADSI lists domain members (WinNT://<DOMAIN>/<name>, class "
    "Group, objectSid){extra}"
)


def _sid_of(outs: dict[str, Any], name: str) -> str:
    doc = json.loads(outs["groups"]["stdout"])
    entry = next(e for e in doc["entries"] if e["attributes"].get("sAMAccountName") == [name])
    return str(entry["attributes"]["objectSid"][0])


def _groups_stdout(members: list[dict[str, Any]], now: datetime) -> str:
    shape = json.loads(SHAPE.read_text())
    doc = json.loads(shape["outputs"]["groups"]["stdout"])
    admins = doc["groups"][0]
    local = [m for m in admins["members"] if f"/{doc['computer']}/" in m["path"]]
    doc["computer"] = COMPUTER
    for m in local:
        m["path"] = f"WinNT://CORP/{COMPUTER}/{m['path'].rsplit('/', 1)[1]}"
        if m["last_login"]:
            m["last_login"] = (now - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
    admins["members"] = local + members
    return json.dumps(doc, separators=(",", ":")) + "\r\n"


def _expiry_stdout(now: datetime) -> str:
    shape = json.loads(EXPIRY_SHAPE.read_text())
    doc = json.loads(shape["outputs"]["expiry"]["stdout"])
    users = [u for u in doc["users"] if u["name"] in ("Administrator", "Guest")]
    users.append({"name": "e8-laps", "sid": f"{LOCAL}-1002",
                  "expires": (now + timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "flags": 66049})  # fmt: skip
    doc["users"] = users
    return json.dumps(doc, separators=(",", ":")) + "\r\n"


def _member(name: str, sid: str | None, domain: str = "CORP") -> dict[str, Any]:
    m: dict[str, Any] = {"path": f"WinNT://{domain}/{name}", "class": "Group"}
    if sid is not None:
        m["sid"] = sid
    return m


class Writer:
    """Writes one Windows fixture per call, with or without the directory block."""

    def __init__(self, source: dict[str, Any], rec: str) -> None:
        self.host = source
        self.now = datetime.fromisoformat(source["finished"].replace("Z", "+00:00")).astimezone(UTC)
        self.rec = rec
        self.base = outputs(source)
        shape = json.loads(SHAPE.read_text())
        self.groups_command = shape["outputs"]["groups"]["command"]
        self.expiry_command = json.loads(EXPIRY_SHAPE.read_text())["outputs"]["expiry"]["command"]

    def members(self, with_sid: bool = True) -> list[dict[str, Any]]:
        return [
            _member(n, _sid_of(self.base, n) if with_sid else None)
            for n in ("Domain Admins", "Server-Admins")
        ]

    def write(self, check: str, name: str, provenance: str, expect: str, *,
              members: list[dict[str, Any]], directory: dict[str, Any] | None) -> None:  # fmt: skip
        outs: dict[str, Any] = {
            "groups": {"command": self.groups_command,
                       "stdout": _groups_stdout(members, self.now), "stderr": "",
                       "exit_code": 0},
        }  # fmt: skip
        if check == EXPIRY:
            outs["expiry"] = {"command": self.expiry_command, "stdout": _expiry_stdout(self.now),
                              "stderr": "", "exit_code": 0}  # fmt: skip
        doc: dict[str, Any] = {
            "provenance": provenance,
            "platform": "windows",
            "vars": {"e8_role": "workstation"},
            "policy": {},
            "collected_at": self.now.isoformat(),
            "outputs": outs,
        }
        if directory is not None:
            doc["directory"] = {
                "name": self.host.get("name", "dc01.corp.e8scan.test"),
                "outputs": {k: directory[k] for k in DIRECTORY_KEYS},
            }
        ism = "ISM-1648" if check == STALE else "ISM-1647"
        doc["expect"] = {ism: expect}
        (ROOT / check / f"{name}.json").write_text(
            json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
        )

    def edited(self, change: Callable[[list[dict[str, Any]]], None], key: str = "accounts",
               start: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        outs = copy.deepcopy(start or self.base)
        edit(outs[key], change)
        return outs


def write_all(source: dict[str, Any], rec: str) -> None:
    w = Writer(source, rec)
    now = w.now
    cases = "CORP\\Domain Admins and CORP\\Server-Admins"
    shape = WINDOWS_SHAPE.format(members=cases, extra="")
    directory = f"Directory side: {rec}"

    def fresh(entries: list[dict[str, Any]]) -> None:
        for e in entries:
            e["attributes"]["lastLogonTimestamp"] = [ft(now - timedelta(days=3))]
            e["attributes"]["accountExpires"] = [ft(now + timedelta(days=90))]

    clean = w.edited(fresh)
    edited = (
        "; edited: every account's lastLogonTimestamp set 3 days and accountExpires 90 days "
        "from the collection"
    )

    for check, what in ((STALE, "stale"), (EXPIRY, "never_expire")):
        ineffective = "ISM-1648: da-stale last logged on 120 days before" if check == STALE else (
            "ISM-1647: Administrator and da-noexpiry never expire, da-farexpiry in 800 days"
        )  # fmt: skip
        w.write(check, f"samba_domain_admins_{what}", f"{shape}. {directory} (as recorded; "
                f"{ineffective})", "ineffective", members=w.members(), directory=w.base)  # fmt: skip
        w.write(check, "samba_domain_admins_current", f"{shape}. {directory}{edited}",
                "effective", members=w.members(), directory=clean)  # fmt: skip
        w.write(check, "corp_domain_admins_no_directory", f"{shape}. No directory in the run: "
                "the domain admins are not visible from the host", "no_visibility",
                members=w.members(), directory=None)  # fmt: skip
        other = [_member("Domain Admins", f"{CONTOSO}-512", "CONTOSO")]
        w.write(check, "samba_directory_of_another_domain",
                WINDOWS_SHAPE.format(members="CONTOSO\\Domain Admins (the shape fixture's SID)",
                                     extra="") + f". {directory}{edited}: the run read CORP, "
                "not CONTOSO", "no_visibility", members=other, directory=clean)  # fmt: skip

    truncated = copy.deepcopy(clean)
    truncated["groups"]["truncated"] = True
    w.write(STALE, "samba_groups_search_truncated", f"{shape}. {directory}{edited}; the groups "
            "search marked truncated (the output cap)", "no_visibility", members=w.members(),
            directory=truncated)  # fmt: skip
    failed = copy.deepcopy(clean)
    failed["accounts"].update(
        stdout="", exit_code=50, stderr="LDAP 50 insufficientAccessRights: 00002098: SecErr"
    )
    w.write(EXPIRY, "samba_accounts_search_refused", f"{shape}. {directory}{edited}; the "
            "accounts search answered LDAP result 50 (insufficient access), shaped after the "
            "transport's stderr", "no_visibility", members=w.members(),
            directory=failed)  # fmt: skip
    w.write(STALE, "samba_domain_admins_by_name", WINDOWS_SHAPE.format(
        members=cases, extra=", without objectSid (the ADSI read of it failed), so the "
        "NetBIOS name decides") + f". {directory}{edited}", "effective",
        members=w.members(with_sid=False), directory=clean)  # fmt: skip

    def lag(entries: list[dict[str, Any]]) -> None:
        for e in entries:
            if e["attributes"].get("sAMAccountName") == ["da-fresh"]:
                e["attributes"]["lastLogonTimestamp"] = [ft(now - timedelta(days=50))]

    w.write(STALE, "samba_domain_admin_in_replication_lag", f"{shape}. {directory}{edited}, "
            "then da-fresh's lastLogonTimestamp 50 days old (past 45, within the 14-day lag)",
            "no_visibility", members=w.members(),
            directory=w.edited(lag, start=clean))  # fmt: skip
    domain_sid = json.loads(w.base["domain"]["stdout"])["entries"][0]["attributes"]["objectSid"][0]
    gone = [*w.members(), _member("old-admins", f"{domain_sid}-4242")]
    w.write(STALE, "samba_member_not_in_directory", WINDOWS_SHAPE.format(
        members=cases + " and CORP\\old-admins", extra=" (a CORP SID the directory does not "
        "hold: a deleted group)") + f". {directory}{edited}", "no_visibility", members=gone,
        directory=clean)  # fmt: skip


def source_host(path: str) -> tuple[dict[str, Any], str]:
    """The directory host of a raw record, or one rebuilt from a recorded check fixture."""
    from tests.directory.record_fixtures import RECORDED

    doc = json.loads(Path(path).read_text())
    if "hosts" in doc:
        host = doc["hosts"][0]
        return host, RECORDED.format(day=host["finished"][:10])
    commands = [dict(o) for o in doc["outputs"].values()]
    host = {"name": "dc01.corp.e8scan.test", "finished": doc["collected_at"], "commands": commands}
    return host, doc["provenance"]


if __name__ == "__main__":
    write_all(*source_host(sys.argv[1]))
