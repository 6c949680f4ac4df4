"""Write the directory checks' recorded fixtures from a scan of the test domain.

``python -m tests.directory.record_fixtures RAW.json`` takes the raw record of
``e8scan scan`` against the suite's Samba AD DC (tests/sambadc.py, Samba 4.17, POPULATION) and
writes ``tests/checks/<check>/samba_*.json`` (and ``tests/facts/directory.*/``,
``tests/data/directory/samba_computers.json``): the recording as it is, and variants edited the way
real domains differ (each says what was changed in its provenance). Kept so that a re-recording
after a change to the searches is one command.
"""

from __future__ import annotations

import copy
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1] / "checks"
PRIV = "restrict_admin.directory_privileged_accounts"
KEYS = {"domain": "(objectClass=domain)", "groups": "(objectClass=group)"}
KEYS["accounts"] = "(&(objectCategory=person)(objectClass=user))"
KEYS["computers"] = "(objectClass=computer)"
KEYS["laps_schema"] = "lDAPDisplayName=ms-Mcs-AdmPwdExpirationTime"
KEYS["netbios"] = "(objectClass=crossRef)"
EPOCH_FT = 116444736000000000


def ft(when: datetime) -> str:
    return str(EPOCH_FT + int(when.timestamp() * 10_000_000))


def outputs(host: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for key, marker in KEYS.items():
        for c in host["commands"]:
            if marker in c["command"]:
                found[key] = {
                    "command": c["command"],
                    "stdout": c["stdout"],
                    "stderr": c["stderr"],
                    "exit_code": c["exit_code"],
                }
    return found


def edit(out: dict[str, Any], change: Any) -> None:
    doc = json.loads(out["stdout"])
    change(doc["entries"])
    out["stdout"] = json.dumps(doc, ensure_ascii=False)


def entry(entries: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(e for e in entries if e["attributes"].get("sAMAccountName") == [name])


def write(check: str, name: str, provenance: str, host: dict[str, Any], keys: tuple[str, ...],
          outs: dict[str, Any], expect: dict[str, str]) -> None:  # fmt: skip
    doc = {
        "provenance": provenance,
        "platform": "directory",
        "vars": {},
        "policy": {},
        "collected_at": host["finished"].replace("Z", "+00:00"),
        "outputs": {k: outs[k] for k in keys},
        "expect": expect,
    }
    folder = ROOT / check
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


RECORDED = (
    "recorded from the suite's Samba 4.17 AD DC (tests/sambadc.py POPULATION) by e8scan scan "
    "over LDAPS as svc-e8scan on {day}"
)


def main(raw_path: str) -> None:
    raw = json.loads(Path(raw_path).read_text())
    host = raw["hosts"][0]
    now = datetime.fromisoformat(host["finished"].replace("Z", "+00:00")).astimezone(UTC)
    rec = RECORDED.format(day=now.date().isoformat())
    base = outputs(host)
    keys = ("domain", "groups", "accounts", "computers", "netbios")
    write(PRIV, "samba_population", rec, host, keys, base, {
        "ISM-1648": "ineffective", "ISM-1647": "ineffective",
        "ISM-1175": "ineffective", "ISM-1649": "ineffective",
    })  # fmt: skip

    # Only the built-in Administrator holds privilege, and it expires within a year and logged
    # on recently: a domain run the way ASD describes.
    clean = copy.deepcopy(base)
    keep_admin = ("CN=Administrator,CN=Users,",)

    def only_admin_members(entries: list[dict[str, Any]]) -> None:
        for e in entries:
            if "member" in e["attributes"]:
                members = [m for m in e["attributes"]["member"] if m.startswith(keep_admin)]
                e["attributes"]["member"] = members
                if not members:
                    del e["attributes"]["member"]

    def admin_expires(entries: list[dict[str, Any]]) -> None:
        a = entry(entries, "Administrator")["attributes"]
        a["accountExpires"] = [ft(now + timedelta(days=90))]
        a["lastLogonTimestamp"] = [ft(now - timedelta(days=3))]

    edit(clean["groups"], only_admin_members)
    edit(clean["accounts"], admin_expires)
    write(PRIV, "samba_only_builtin_admin", rec + "; edited: every privileged group's members "
          "but Administrator removed, Administrator's accountExpires set 90 days and "
          "lastLogonTimestamp 3 days before the collection", host, keys, clean, {
        "ISM-1648": "effective", "ISM-1647": "effective",
        "ISM-1175": "no_visibility", "ISM-1649": "effective",
    })  # fmt: skip

    # A stale account that is a Domain Admin only through primaryGroupID (no member attribute
    # lists it; LDAP's in-chain rule does not return it either).
    primary = copy.deepcopy(clean)

    def primary_group_admin(entries: list[dict[str, Any]]) -> None:
        a = entry(entries, "alice")["attributes"]
        a["primaryGroupID"] = ["512"]
        a["accountExpires"] = [ft(now + timedelta(days=30))]

    edit(primary["accounts"], primary_group_admin)
    write(PRIV, "samba_primary_group_admin", rec + "; edited from samba_only_builtin_admin: "
          "alice's primaryGroupID set to 512 (Domain Admins) and her accountExpires 30 days "
          "ahead; her lastLogonTimestamp (400 days old) is the recording's", host, keys, primary, {
        "ISM-1648": "ineffective", "ISM-1647": "effective",
        "ISM-1175": "ineffective", "ISM-1649": "ineffective",
    })  # fmt: skip

    # A member from a trusted domain (a foreign security principal): not judgeable here.
    foreign = copy.deepcopy(clean)
    fsp = "CN=S-1-5-21-1004336348-1177238915-682003330-512,CN=ForeignSecurityPrincipals,"

    def foreign_member(entries: list[dict[str, Any]]) -> None:
        for e in entries:
            if e["attributes"].get("objectSid") == ["S-1-5-32-544"]:
                dn_base = e["dn"].split(",CN=Builtin,", 1)[1]
                e["attributes"].setdefault("member", []).append(fsp + dn_base)

    edit(foreign["groups"], foreign_member)
    write(PRIV, "samba_foreign_member", rec + "; edited from samba_only_builtin_admin: a "
          "foreign security principal (another domain's Domain Admins) added to Administrators",
          host, keys, foreign, {
        "ISM-1648": "no_visibility", "ISM-1647": "no_visibility",
        "ISM-1175": "no_visibility", "ISM-1649": "no_visibility",
    })  # fmt: skip

    # lastLogonTimestamp 50 days old: past 45 days, but within the 14-day replication lag.
    lag = copy.deepcopy(clean)

    def in_lag_window(entries: list[dict[str, Any]]) -> None:
        entry(entries, "Administrator")["attributes"]["lastLogonTimestamp"] = [
            ft(now - timedelta(days=50))
        ]

    edit(lag["accounts"], in_lag_window)
    laps(host, base, rec, now)
    os_support(host, base, rec)
    write(PRIV, "samba_logon_within_replication_lag", rec + "; edited from "
          "samba_only_builtin_admin: Administrator's lastLogonTimestamp 50 days old", host, keys,
          lag, {
        "ISM-1648": "no_visibility", "ISM-1647": "effective",
        "ISM-1175": "no_visibility", "ISM-1649": "effective",
    })  # fmt: skip


LAPS = "restrict_admin.directory_laps"


def laps(host: dict[str, Any], base: dict[str, Any], rec: str, now: datetime) -> None:
    keys = ("laps_schema", "computers")
    write(LAPS, "samba_population", rec, host, keys, base, {"ISM-1685": "ineffective"})
    current = copy.deepcopy(base)

    def all_current(entries: list[dict[str, Any]]) -> None:
        for e in entries:
            a = e["attributes"]
            if a.get("sAMAccountName") in (["HMI01$"], ["WIN02$"]):
                a["msLAPS-PasswordExpirationTime"] = [ft(now + timedelta(days=12))]

    edit(current["computers"], all_current)
    write(
        LAPS,
        "samba_all_current",
        rec + "; edited: HMI01 and WIN02 given a Windows LAPS expiration time 12 days ahead",
        host,
        keys,
        current,
        {"ISM-1685": "effective"},
    )
    no_schema = copy.deepcopy(current)
    edit(no_schema["laps_schema"], lambda entries: entries.clear())
    write(
        LAPS,
        "samba_no_laps_schema",
        rec + "; edited from samba_all_current: the schema "
        "search answered no attribute (a domain whose schema was never extended)",
        host,
        keys,
        no_schema,
        {"ISM-1685": "ineffective"},
    )
    hidden = copy.deepcopy(base)

    def no_values(entries: list[dict[str, Any]]) -> None:
        for e in entries:
            e["attributes"].pop("msLAPS-PasswordExpirationTime", None)
            e["attributes"].pop("ms-Mcs-AdmPwdExpirationTime", None)

    edit(hidden["computers"], no_values)
    write(
        LAPS,
        "samba_schema_but_no_values",
        rec + "; edited: every LAPS expiration time "
        "removed (not deployed, or hidden from the scanner by an ACL)",
        host,
        keys,
        hidden,
        {"ISM-1685": "no_visibility"},
    )


OS_SUPPORT = "patch_os.directory_os_support"


def os_support(host: dict[str, Any], base: dict[str, Any], rec: str) -> None:
    """ISM-1501 from the computer objects. The recording (collected after 2026-11-10): HMI01
    (Windows 7), SRV2008 (2008 R2) and WIN02 (Windows 11 23H2 Enterprise, ended 2026-11-10) are
    past support; WIN01 (Windows 10 22H2 Enterprise) is in its ESU window; SRV2022 and LNX01
    (Ubuntu 22.04) are supported; GONE01 (200 days), OLDXP (disabled) and the DC (no logon
    recorded) are not in use."""
    keys = ("computers",)
    write(OS_SUPPORT, "samba_population", rec, host, keys, base, {"ISM-1501": "ineffective"})

    def set_os(entries: list[dict[str, Any]], name: str, os_name: str, version: str) -> None:
        a = entry(entries, name)["attributes"]
        a["operatingSystem"] = [os_name]
        a["operatingSystemVersion"] = [version]

    def all_supported(entries: list[dict[str, Any]]) -> None:
        set_os(entries, "HMI01$", "Windows 11 Enterprise", "10.0 (26200)")
        set_os(entries, "SRV2008$", "Windows Server 2025 Standard", "10.0 (26100)")
        set_os(entries, "WIN02$", "Windows 11 Pro", "10.0 (26200)")
        set_os(entries, "WIN01$", "Windows 10 Enterprise LTSC", "10.0 (17763)")

    supported = copy.deepcopy(base)
    edit(supported["computers"], all_supported)
    write(OS_SUPPORT, "samba_all_supported", rec + "; edited: HMI01 made Windows 11 Enterprise "
          "25H2 (10.0 (26200)), SRV2008 Windows Server 2025 Standard (10.0 (26100)), WIN02 "
          "Windows 11 Pro 25H2 (10.0 (26200)), WIN01 Windows 10 Enterprise LTSC 2019 "
          "(10.0 (17763))", host, keys, supported, {"ISM-1501": "effective"})  # fmt: skip

    unknown = copy.deepcopy(supported)
    edit(unknown["computers"], lambda entries: set_os(
        entries, "HMI01$", "Windows 11 Enterprise", "10.0 (26220)"))  # fmt: skip
    write(OS_SUPPORT, "samba_unknown_build", rec + "; edited from samba_all_supported: HMI01's "
          "build set to 26220 (an Insider build, not in windows_lifecycle.csv)", host, keys,
          unknown, {"ISM-1501": "no_visibility"})  # fmt: skip

    esu = copy.deepcopy(supported)
    edit(esu["computers"], lambda entries: set_os(
        entries, "WIN01$", "Windows 10 Enterprise", "10.0 (19045)"))  # fmt: skip
    write(OS_SUPPORT, "samba_win10_esu_window", rec + "; edited from samba_all_supported: "
          "WIN01 back to the recording's Windows 10 Enterprise 22H2 (10.0 (19045)): support "
          "ended 2025-10-14, ESU runs to 2028-10-10, and ESU enrolment is not in the directory",
          host, keys, esu, {"ISM-1501": "no_visibility"})  # fmt: skip

    idle = copy.deepcopy(base)

    def nobody_in_use(entries: list[dict[str, Any]]) -> None:
        for e in entries:
            e["attributes"].pop("lastLogonTimestamp", None)

    edit(idle["computers"], nobody_in_use)
    write(OS_SUPPORT, "samba_no_computer_in_use", rec + "; edited: every computer's "
          "lastLogonTimestamp removed (none logged on since the domain recorded it)", host, keys,
          idle, {"ISM-1501": "not_applicable"})  # fmt: skip


FACT_KEYS = {
    "directory.domain": "domain",
    "directory.groups": "groups",
    "directory.accounts": "accounts",
    "directory.computers": "computers",
    "directory.laps_schema": "laps_schema",
    "directory.netbios": "netbios",
}
FACTS = Path(__file__).resolve().parents[1] / "facts"


def facts(raw_path: str, keep: int = 4) -> None:
    """``tests/facts/directory.*/samba.json``: each search as recorded (lists cut to ``keep``
    entries, so a reviewer can read the expected value), plus the failures every search can
    meet: a referral (a base outside the domain), an empty answer and a truncated one."""
    from checks.facts.directory import objects
    from scanner.checking.api import Output
    from tests.facts.registry import jsonable

    raw = json.loads(Path(raw_path).read_text())
    host = raw["hosts"][0]
    outs = outputs(host)
    day = host["finished"][:10]
    all_facts = {
        f.name: f for f in vars(objects).values() if hasattr(f, "parse") and hasattr(f, "cmd")
    }
    for name, key in FACT_KEYS.items():
        fact = all_facts[name]
        if key not in outs:
            continue
        doc = json.loads(outs[key]["stdout"])
        doc["entries"] = doc["entries"][:keep]
        stdout = json.dumps(doc, ensure_ascii=False)
        value = fact.read(Output(command=fact.cmd.line, stdout=stdout.encode(), exit_code=0))
        folder = FACTS / name
        folder.mkdir(exist_ok=True)
        cases = {
            "samba": {
                "provenance": f"recorded from the suite's Samba 4.17 AD DC on {day} (first {keep} entries kept)",
                "command": fact.cmd.line,
                "stdout": stdout,
                "exit_code": 0,
            },
            "referral": {
                "provenance": (
                    "shape of the directory transport's answer when the base is outside the DC's "
                    "naming contexts (Samba answers result 10 with the superior reference)"
                ),
                "command": fact.cmd.line,
                "stdout": json.dumps(
                    {
                        "base": "DC=other,DC=example",
                        "entries": [],
                        "references": ["ldap://other.example/DC=other,DC=example"],
                    }
                ),
                "stderr": (
                    "LDAP 10 referral: 0000202B: RefErr: DSID-0310082F, data 0, 1 access points "
                    "(referral to ldap://other.example/DC=other,DC=example; not followed)"
                ),
                "exit_code": 10,
            },
            "truncated": {
                "provenance": "constructed: the recording cut at the output cap (the transport marks it truncated)",
                "command": fact.cmd.line,
                "stdout": stdout,
                "exit_code": 0,
                "truncated": True,
            },
        }
        for case, body in cases.items():
            out = Output(
                command=fact.cmd.line,
                stdout=str(body["stdout"]).encode(),
                stderr=str(body.get("stderr", "")).encode(),
                exit_code=int(body["exit_code"]),  # type: ignore[call-overload]
                truncated=bool(body.get("truncated", False)),
            )
            body["expected"] = jsonable(fact.read(out))
            (folder / f"{case}.json").write_text(
                json.dumps(body, indent=1, ensure_ascii=False) + "\n"
            )
        del value


COVERAGE = Path(__file__).resolve().parents[1] / "data" / "directory" / "samba_computers.json"


def coverage(raw_path: str) -> None:
    """``tests/data/directory/samba_computers.json``: the whole computers search as recorded,
    with the time the directory was read (what "active" counts back from), for the coverage
    tests (tests/unit/test_directory_coverage.py)."""
    raw = json.loads(Path(raw_path).read_text())
    host = raw["hosts"][0]
    out = outputs(host)["computers"]
    doc = {
        "provenance": RECORDED.format(day=host["started"][:10]) + " (every entry kept)",
        "collected_at": host["started"].replace("Z", "+00:00"),
        "command": out["command"],
        "stdout": out["stdout"],
        "exit_code": out["exit_code"],
    }
    COVERAGE.parent.mkdir(parents=True, exist_ok=True)
    COVERAGE.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
    facts(sys.argv[1])
    from tests.directory.record_joined_fixtures import source_host, write_all

    write_all(*source_host(sys.argv[1]))
    coverage(sys.argv[1])
