"""Linux: are firmware fixes published on the LVFS applied within 48 hours / one month (ML3)?

ISM-1903 (firmware fixes within 48 hours when critical or exploited) and ISM-1904 (within one
month otherwise) are **partly** host-checkable: the verdict needs the date the vendor released the
fix. The one source a host holds is fwupd's cached copy of the Linux Vendor Firmware Service (LVFS)
metadata, which lists, per supported device, the releases and their dates. Firmware that is not
published on the LVFS (many servers, most OT hardware) cannot be judged from the host.

**Collected (read-only; never ``fwupdmgr refresh``, ``get-updates`` or ``update``):**
- ``fwupdmgr get-devices --json``: each device's ``Version``, ``Flags`` and ``Releases`` from the
  cached metadata (a release flagged ``is-upgrade`` is newer than the installed firmware; its
  ``Created`` is the release time, epoch seconds);
- the age of the cached metadata (``metadata.xml*`` under ``/var/lib/fwupd/metadata`` or
  ``/var/cache/fwupd``);
- ``dmidecode -s bios-version`` / ``bios-release-date`` (root) as supporting evidence.

**Judgement** (severity is not in the metadata the check reads, so every upgrade counts as
possibly critical for ISM-1903):
- ineffective when an ``is-upgrade`` release for a device was created more than the window
  (``patch_critical_hours`` for ISM-1903, ``patch_other_days`` for ISM-1904) before collection;
- effective when at least one device is updatable through fwupd, no upgrade is overdue and the
  metadata is younger than ``package_cache_max_age_days``; the evidence says it covers only
  firmware published on the LVFS;
- no_visibility when fwupd is not installed or did not answer, a pending upgrade has no release
  time, the metadata is stale or of unknown age, or no device is updatable through fwupd (the
  OEM's feed is needed).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from checks.facts.fact import Unknown
from checks.facts.linux.firmware import BIOS, FWUPD_DEVICES, FWUPD_METADATA
from checks.facts.linux.times import from_epoch, iso
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.0f} days"


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    now = ctx.collected_at
    read = FWUPD_DEVICES.read(outputs.get("fwupd"))
    devices, why = ([], read.reason) if isinstance(read, Unknown) else (read, None)
    stamp = FWUPD_METADATA.read(outputs.get("metadata"))
    meta = None if isinstance(stamp, Unknown) else stamp
    bios = BIOS.read(outputs.get("bios"))
    bios_lines = [] if isinstance(bios, Unknown) else bios
    updatable = [d for d in devices if "updatable" in (d.get("Flags") or [])]
    upgrades = []
    for d in devices:
        for r in d.get("Releases") or []:
            if not isinstance(r, dict) or "is-upgrade" not in (r.get("Flags") or []):
                continue
            created = from_epoch(str(r.get("Created", "")))
            upgrades.append((created, str(d.get("Name", "?")), str(d.get("Version", "?")), r))
    observed = {
        "fwupd_metadata": iso(meta),
        "updatable_devices": [f"{d.get('Name')} {d.get('Version')}" for d in updatable][:20],
        "upgrades": [
            f"{name} {ver} -> {r.get('Version')} ({iso(created)})"
            for created, name, ver, r in upgrades
        ][:20],
        "bios": bios_lines[:2],
    }
    windows = {
        "ISM-1903": timedelta(hours=ctx.policy.patch_critical_hours),
        "ISM-1904": timedelta(days=ctx.policy.patch_other_days),
    }
    undated = [u for u in upgrades if u[0] is None]
    findings = []
    for ism, window in windows.items():
        late = sorted(
            ((c, n, v, r) for c, n, v, r in upgrades if c is not None and now - c > window),
            key=lambda item: (item[0], item[1]),
        )
        if late:
            c, name, ver, r = late[0]
            outcome = Outcome.INEFFECTIVE
            evidence = (
                f"{len(late)} LVFS firmware upgrades pending beyond {_span(window)}; oldest: "
                f"{name} {ver} -> {r.get('Version')} released {c.date()} ({_span(now - c)} ago)"
            )
        elif why is not None:
            outcome, evidence = Outcome.NO_VISIBILITY, why
        elif undated:
            _, name, ver, r = undated[0]
            outcome = Outcome.NO_VISIBILITY
            evidence = (
                f"{len(undated)} LVFS firmware upgrades pending with no release time in the "
                f"metadata (first: {name} {ver} -> {r.get('Version')}): whether they are older "
                f"than {_span(window)} cannot be told"
            )
        elif meta is None:
            outcome = Outcome.NO_VISIBILITY
            evidence = "fwupd metadata age unknown (never refreshed?); pending firmware unknown"
        elif now - meta > timedelta(days=ctx.policy.package_cache_max_age_days):
            outcome = Outcome.NO_VISIBILITY
            evidence = f"fwupd metadata {(now - meta).days} days old; pending firmware unreliable"
        elif not updatable:
            outcome = Outcome.NO_VISIBILITY
            evidence = (
                "no device is updatable through fwupd/LVFS; the firmware's release dates need "
                "the OEM's feed"
            )
        else:
            outcome = Outcome.EFFECTIVE
            evidence = (
                f"{len(updatable)} fwupd-updatable devices, no LVFS upgrade pending beyond "
                f"{_span(window)} (metadata {iso(meta)}; partly: firmware not on the LVFS is "
                "not judged)"
            )
        findings.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed))
    return findings


CHECK = Check(
    id="patch_os.linux_firmware_updates",
    title="Linux: firmware upgrades listed by fwupd (LVFS) applied in time",
    strategy=Strategy.PATCH_OS,
    ism=("ISM-1903", "ISM-1904"),
    platforms=frozenset({Platform.LINUX}),
    collect={"fwupd": FWUPD_DEVICES.cmd, "metadata": FWUPD_METADATA.cmd, "bios": BIOS.cmd},
    # ``bios`` (dmidecode) is supporting evidence in ``observed`` only; the verdict rests on the
    # fwupd device list and the age of its metadata.
    rests_on={"ISM-1903": ("fwupd", "metadata"), "ISM-1904": ("fwupd", "metadata")},
    judge=judge,
    version=2,
)
