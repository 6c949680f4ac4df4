"""Windows: are unsupported applications removed (Flash, old Office, old browsers, old PDF readers…)?

**Collected (read-only; never ``Win32_Product``, which makes Windows Installer check and repair
every MSI package):** the Uninstall registry keys, as ASD's assessment guide reads them:
``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*``, the 32-bit view under
``WOW6432Node``, and ``HKEY_USERS\\<SID>\\Software\\...\\Uninstall\\*`` for every *loaded* user hive
(per-user installs such as Chrome or Zoom). Per entry: ``DisplayName``, ``DisplayVersion``,
``Publisher``, ``InstallDate`` and the hive it came from (fact ``windows.uninstall_inventory``).

**Reference data:** two sources, named per finding in the evidence:
- the **endoflife.date feed** (``ctx.feeds``, ``endoflife/products/<product>.md`` release cycles)
  for Microsoft Office perpetual and LTSC releases (the year in ``DisplayName``: 2003 … 2024,
  page ``office``), Oracle Java runtimes (``Java N Update``, ``Java(TM) N``: page
  ``oracle-jdk``) and Firefox ESR (its major version is the ESR cycle on page ``firefox``).
  Support ends at the last tier the vendor sells: the cycle's ``eoes`` (Oracle
  Extended Support: Java 7 to 2022-07-19, Java 8 to 2030-12-31) when dated, else its ``eol``
  (Office 2016/2019: 2025-10-14; 2021: 2026-10-13). A policy ``eol_overrides`` entry
  ``app:Microsoft Office 2016`` / ``app:Oracle Java 8`` replaces the date. When the feed is not
  usable at the collection (none installed, or older than the policy's ``feed_max_age_days``,
  default 90) or lacks the product's cycle (Office 2003), these entries cannot be judged: the
  control is no_visibility with the reason unless something else is unsupported;
- ``patch_applications/app_eol.csv`` for the rest — product pattern (on ``DisplayName``), class
  (office / browser / email / pdf / flash / security / java / other), version range and the date
  support ended, with a source per row; e.g. Adobe Flash Player (2020-12-31), Acrobat / Reader
  2015, Internet Explorer, Silverlight, SQL Server 2012/2014. Browsers (Chrome, Firefox release
  channel) are judged against a *minimum supported major version as of the table date*
  (2025-10-15), taken from the endoflife.date cycles: a release far behind stable cannot be dated
  precisely, but a major below that line is out of support. Products no source could be found for
  (Edge, Thunderbird, Adobe Reader X/XI and Acrobat 2017/2020, McAfee VirusScan Enterprise,
  Microsoft Security Essentials, Symantec Endpoint Protection 12.1) have no row and are not
  judged.

**Judgement:**
- ISM-1704 (ML1-3; office suites, browsers, email clients, PDF software, Adobe Flash Player,
  security products): ineffective when an entry of those classes matches a table row whose
  support had ended by the collection date; no_visibility when an installed entry of those classes
  is a product no reference data speaks for (no end-of-life row, feed product or current-release
  line: Opera, Foxit, a classic-track Acrobat 2020, most security products), naming it; effective
  when none of these holds and the table is less than a year old at collection (an older table no
  longer proves "nothing unsupported": no_visibility). Products whose vendor supports only the
  current release (``app_lines.csv``: Microsoft Edge, Microsoft 365 Apps, Acrobat continuous
  track, each with its source) are a supported line; whether the copy is current is judged by
  ``windows_app_updates`` (ISM-1691/1692), and the evidence says so. not_applicable is never
  returned (Flash is always in scope: its absence is the requirement).
- ISM-0304 (ML3; any other application, Java included — ISM-1704 does not name Java): the same
  rule over the other rows. *Partly:* the table names only well-known products, so "effective"
  means "no product in the table is unsupported", not that every installed application is
  supported; the evidence says so.
- no_visibility when the inventory cannot be read: PowerShell 2.0 (no ``ConvertTo-Json``), access
  denied, non-JSON output, or no entries at all (a Windows host always has some).

Caveats: the Uninstall keys are what installers register; portable copies and unloaded user hives
(users not logged on) are not seen. KB4577586 (Flash removal) is not needed: a remaining Flash
Uninstall entry is what fails the control.
- ISM-1905 (ML1-3, online services no longer supported are removed): on hosts marked
  ``e8_internet_facing`` any unsupported application found counts against it (the host cannot say
  which application serves the internet, so this is stricter than the control); not_applicable
  on other hosts.

A policy ``eol_overrides`` entry ``app:<product>`` (the product as named in ``app_eol.csv``)
replaces that row's end of support, for a vendor extension the organisation holds.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.facts.windows.uninstall import UNINSTALL_INVENTORY
from checks.patch_applications._judging import judge_unsupported, windows_inventory
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Platform, Strategy


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    apps, why = windows_inventory(outputs.get("uninstall"))
    return judge_unsupported(apps, why, "windows", ctx)


CHECK = Check(
    id="patch_applications.windows_unsupported_apps",
    title="Windows: unsupported applications (Flash, old Office, browsers, PDF) removed",
    strategy=Strategy.PATCH_APPLICATIONS,
    ism=("ISM-1704", "ISM-0304", "ISM-1905"),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"uninstall": UNINSTALL_INVENTORY.cmd},
    judge=judge,
    version=3,  # v3: high-risk products without reference data are no_visibility
)
