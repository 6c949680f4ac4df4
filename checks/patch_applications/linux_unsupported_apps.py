"""Linux: are unsupported applications removed (Flash plug-ins, old browsers, old Java…)?

**Collected (read-only):** the installed packages, one line each:
``dpkg-query -W -f='${db:Status-Abbrev}\\t${Package}\\t${Version}\\n'`` (installed or held
packages only) and/or ``rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\n'``; whichever tool exists.

**Reference data:** ``patch_applications/app_eol.csv`` (Linux rows, matched on the package name):
Flash plug-in packages (``flashplugin-installer``, ``adobe-flashplugin``, ``flash-plugin``,
``pepperflashplugin-nonfree`` …; Flash support ended 2020-12-31), Firefox / Chrome / Chromium
below the minimum supported major as of the table date (2025-10-15) and ClamAV before the 1.0 LTS
line (0.103 LTS ended 2024-09-14), each row with its source. Products no source could be found
for (Edge, Thunderbird, Adobe Reader 9, OpenJDK 6/7/11) have no row and are not judged.
Ubuntu's ``chromium-browser`` deb is a stub that installs the snap and is deliberately not
matched. ``firefox-esr`` is judged on
the endoflife.date feed instead (``ctx.feeds``: its major version is the ESR cycle on the
``firefox`` page, e.g. ESR 140 supported to 2026-09-29); an unusable feed (none installed, or
older than the policy's ``feed_max_age_days``) makes it no_visibility, unless something else is
unsupported.

Packages shipped by a distribution are supported for as long as the distribution release is
(``patch_os.linux_os_support`` judges that); this check looks for what is unsupported *even on a
supported distribution*: dead plug-ins, browser lines the vendor no longer patches, runtimes the
vendor retired.

**Judgement** (the same rules as ``patch_applications.windows_unsupported_apps``):
- ISM-1704 (ML1-3): ineffective when an office / browser / email / PDF / Flash / security package
  matches a row whose support had ended by the collection date; no_visibility when a package of
  those classes from a vendor's own repository (``app_classes.csv`` supplier ``vendor``:
  microsoft-edge-stable, brave-browser, opera-stable, mdatp, falcon-sensor…) has no reference
  data, naming it (the distribution's packages are supported with the release and are not asked
  about; Ubuntu's universe and Debian's limited-support packages are a caveat this check cannot
  see); effective otherwise (the evidence names the table date), no_visibility when the table is
  more than a year old;
- ISM-0304 (ML3, partly): the same over Java and other rows; "effective" means no package in the
  table is unsupported, not that every package is supported;
- no_visibility when neither dpkg nor rpm answered.
- ISM-1905 (ML1-3, online services no longer supported are removed): on hosts marked
  ``e8_internet_facing`` any unsupported application found counts against it (the host cannot say
  which application serves the internet, so this is stricter than the control); not_applicable
  on other hosts.

A policy ``eol_overrides`` entry ``app:<product>`` (the product as named in ``app_eol.csv``)
replaces that row's end of support, for a vendor extension the organisation holds.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.facts.linux.packages import PACKAGES
from checks.patch_applications._judging import judge_unsupported, linux_inventory
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Platform, Strategy


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    apps, why = linux_inventory(outputs.get("packages"))
    return judge_unsupported(apps, why, "linux", ctx)


CHECK = Check(
    id="patch_applications.linux_unsupported_apps",
    title="Linux: unsupported applications (Flash plug-ins, old browsers, old Java) removed",
    strategy=Strategy.PATCH_APPLICATIONS,
    ism=("ISM-1704", "ISM-0304", "ISM-1905"),
    platforms=frozenset({Platform.LINUX}),
    collect={"packages": PACKAGES.cmd},
    judge=judge,
    version=3,  # v3: vendor high-risk packages without reference data are no_visibility
)
