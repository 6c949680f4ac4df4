"""The field kit: one self-contained script for a host that nothing can reach.

Air-gapped HMIs and hosts whose change board forbids remote management still get assessed: an
engineer carries ``e8scan kit``'s script to the host (USB stick), runs it there, and carries back
the one file it writes; ``e8scan import`` turns that file into a host of a raw record.

The script holds exactly the commands ``e8scan plan`` lists for the host (or, without an
inventory, for any host of the platform), in the very framing of the remote batches: the POSIX
script is :func:`scanner.collect.posix_batch.build`'s and the PowerShell one
:func:`scanner.collect.ps_batch.build`'s, each step wrapped (``frame``) so that its output goes
to the output file as a record sealed with its SHA-256. Around the batch the kit only reads who
and where it runs (host name, machine id, account, clock) and writes the output file, which it
creates and never overwrites; it changes nothing else on the host.

The output file (format 1)::

    e8scan-kit 1 <platform> <nonce>\\n
    <record bytes>\\n<nonce> S <name> <length> <sha256 of the record bytes>\\n   (for each record)

Records in order: ``manifest`` (this module's :class:`KitManifest`, JSON), ``host`` (``key=value``
lines: hostname, machine_id, account, operator, started …), the steps — ``out.<i>`` and, on Linux,
``err.<i>``: step *i*'s stdout and stderr frames exactly as the remote batch prints them — and
``end`` (finished, steps). :mod:`scanner.collect.offline` reads it back.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from scanner import __version__
from scanner.checking.api import Check
from scanner.collect import posix_batch, ps_batch
from scanner.collect.plan import HostPlan, plan_host
from scanner.inventory.bastion import ROUTE_VARS
from scanner.inventory.load import InventoryHost
from scanner.model.errors import InputError
from scanner.model.vocabulary import Platform
from scanner.record.raw import CheckRef, safe_vars

KIT_FORMAT = 1
MAGIC = "e8scan-kit"
# The account a platform kit's plan is made for: not root, with become, so root reads go
# through ``sudo -n`` (which fails cleanly, without a prompt, where the runner has no rights).
KIT_ACCOUNT = "e8kit"


class KitStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str
    as_run: str
    checks: list[str]


class KitHost(BaseModel):
    """The inventory host the kit was made for; ``name`` None for a platform kit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    address: str | None = None
    groups: list[str] = Field(default_factory=list)
    vars: dict[str, object] = Field(default_factory=dict)
    become: bool = True


class KitManifest(BaseModel):
    """What the kit carries besides its commands: read back by ``e8scan import``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = "e8scan-kit"
    format: int = KIT_FORMAT
    tool_version: str = __version__
    created: datetime
    platform: Platform
    nonce: str
    command_timeout: int
    max_output: int
    host: KitHost
    checks: list[CheckRef]
    steps: list[KitStep]


def platform_host(platform: Platform) -> InventoryHost:
    """The host a platform kit is planned for: no variables but its connection, with become."""
    hvars: dict[str, object] = {"ansible_connection": "ssh"}
    if platform is Platform.WINDOWS:
        hvars = {"ansible_connection": "winrm", "ansible_winrm_transport": "ntlm"}
    hvars |= {"ansible_user": KIT_ACCOUNT, "ansible_become": True}
    return InventoryHost(name=f"any {platform.value} host", vars=hvars, groups=())


def kit_plan(host: InventoryHost, checks: Sequence[Check]) -> HostPlan:
    """The plan ``e8scan plan`` shows for ``host`` (no secrets read: the kit connects nowhere).

    The route to the host (a bastion, a ProxyCommand a scan would refuse) means nothing to a
    kit, which is carried to the host: those variables are not read.
    """
    offline = {k: v for k, v in host.vars.items() if k not in ROUTE_VARS}
    return plan_host(host.model_copy(update={"vars": offline}), checks, secrets=False)


def _manifest(
    plan: HostPlan,
    inventory_host: bool,
    nonce: str,
    timeout: int,
    cap: int,
    created: datetime,
) -> KitManifest:
    host = (
        KitHost(
            name=plan.host.name,
            address=plan.spec.address,
            groups=list(plan.host.groups),
            vars=safe_vars(dict(plan.host.vars), also=plan.host.secrets),
            become=plan.spec.become,
        )
        if inventory_host
        else KitHost(become=plan.spec.become)
    )
    return KitManifest(
        created=created,
        platform=plan.platform,
        nonce=nonce,
        command_timeout=timeout,
        max_output=cap,
        host=host,
        checks=[CheckRef(id=c.id, version=c.version) for c in plan.checks],
        steps=[
            KitStep(command=c.step.line, as_run=c.step.as_run, checks=c.checks)
            for c in plan.commands
        ],
    )


def _listing(plan: HostPlan, who: str) -> str:
    """The comment block at the top of a kit: what it is, how to run it, every command."""
    n = len(plan.commands)
    lines = [
        f"e8scan field kit (format {KIT_FORMAT}) for {who}, made by e8scan {__version__}.",
        f"It runs the {n} read-only commands listed below (what `e8scan plan` shows), each",
        "under a time limit and with its output capped, and writes ONE file: the host's name,",
        "machine id, the account that ran it, the time, every command's output, and a SHA-256",
        "per record. It creates that file (never overwriting one) and changes nothing else.",
        "Bring the file back and run `e8scan import FILE --out DIR` on the scanner's machine.",
        "",
        "Commands (as run):",
    ]
    for c in plan.commands:
        text = c.step.as_run if plan.platform is Platform.LINUX else c.step.line
        body = text.splitlines() or [""]
        lines.append(f"  [{', '.join(c.checks)}]")
        lines += [f"    {ln}" for ln in body]
    return "".join(f"# {ln}".rstrip() + "\n" for ln in lines)


# ---------------------------------------------------------------------------------- POSIX sh

SH_HEAD = """\
#!/bin/sh
{listing}#
# Usage: sh {script} [-o OUTPUT_FILE] [-n "operator name"]
#   -o  where to write (default ./e8kit-<hostname>-<UTC time>.txt); must not exist yet
#   -n  who ran it, recorded in the file (default: the account's name only)
# Run as root, or as a user whose sudo allows these reads without a password (sudo -n);
# as any other user the root reads fail cleanly and come out as "no visibility".
E8OUT=
E8WHO=
while getopts o:n: E8OPT; do
  case $E8OPT in
    o) E8OUT=$OPTARG ;;
    n) E8WHO=$OPTARG ;;
    *) echo 'usage: sh {script} [-o OUTPUT_FILE] [-n "operator name"]' >&2; exit 2 ;;
  esac
done
umask 077
if command -v sha256sum >/dev/null 2>&1; then E8H=sha256sum
elif command -v shasum >/dev/null 2>&1; then E8H='shasum -a 256'
elif command -v openssl >/dev/null 2>&1; then E8H='openssl dgst -sha256 -r'
else echo 'e8kit: no sha256sum, shasum or openssl here to seal the output; nothing collected' >&2; exit 1
fi
E8HOST=$(uname -n 2>/dev/null)
[ -n "$E8OUT" ] || E8OUT="./e8kit-${{E8HOST:-host}}-$(date -u +%Y%m%dT%H%M%SZ).txt"
if ! (set -C; : >"$E8OUT") 2>/dev/null; then
  echo "e8kit: cannot create $E8OUT (it exists, or the folder is not writable); nothing collected" >&2
  exit 1
fi
N={nonce}
# Seal the record that began at byte $E8O of the output file: name ($1), length ($2), SHA-256
# ($3, as the hashing tool prints it); E8O moves past the seal line to where the next begins.
e8seal() {{
  E8S="$N S $1 $2 ${{3%% *}}"
  printf '\\n%s\\n' "$E8S" >>"$E8OUT"
  E8O=$(( E8O + $2 + ${{#E8S}} + 2 ))
}}
# The length of the record that began at byte $E8O: what the file holds past it.
e8len() {{ echo $(( $(wc -c <"$E8OUT") - E8O )); }}
printf '{magic} {fmt} linux %s\\n' "$N" >>"$E8OUT"
E8O=$(wc -c <"$E8OUT")
cat >>"$E8OUT" <<'E8KIT_{nonce}'
{manifest}
E8KIT_{nonce}
e8seal manifest "$(e8len)" "$(tail -c +$(( E8O + 1 )) "$E8OUT" | $E8H)"
{{
  printf 'hostname=%s\\n' "$E8HOST"
  printf 'machine_id=%s\\n' "$(cat /etc/machine-id 2>/dev/null)"
  printf 'account=%s\\n' "$(id -un 2>/dev/null)"
  printf 'uid=%s\\n' "$(id -u 2>/dev/null)"
  printf 'operator=%s\\n' "$(printf '%s' "$E8WHO" | tr '\\r\\n' '  ')"
  printf 'started=%s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}} >>"$E8OUT"
e8seal host "$(e8len)" "$(tail -c +$(( E8O + 1 )) "$E8OUT" | $E8H)"
echo "e8kit: running {n} read-only commands; output to $E8OUT" >&2
# The batch, exactly as a remote scan sends it; each step's stdout and stderr become records.
{{
"""

# Step i of the batch: its stdout frames go straight to the file (fd 3 and fd 1), its stderr
# frames are held by the shell until the step ends, then written as the next record.
SH_STEP = """\
printf 'e8kit: %s of %s\\n' {k} {n} >&2
E8ERR=$( {{
{step}}} 2>&1 >&3; printf x )
e8seal out.{i} "$(e8len)" "$(tail -c +$(( E8O + 1 )) "$E8OUT" | $E8H)"
E8ERR=${{E8ERR%x}}
printf '%s' "$E8ERR" >&3
e8seal err.{i} "$(e8len)" "$(printf '%s' "$E8ERR" | $E8H)"
"""

SH_TAIL = """\
}} >>"$E8OUT"
printf 'finished=%s\\nsteps={n}\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$E8OUT"
e8seal end "$(e8len)" "$(tail -c +$(( E8O + 1 )) "$E8OUT" | $E8H)"
echo "e8kit: wrote $E8OUT; bring it back and run: e8scan import <file> --out <folder>" >&2
"""


def linux_kit(plan: HostPlan, manifest_of: ManifestOf, script_name: str, who: str) -> str:
    """The POSIX sh kit for ``plan``."""
    steps = [c.step for c in plan.commands]
    n = len(steps)

    def frame(i: int, text: str) -> str:
        return SH_STEP.format(i=i, k=i + 1, n=n, step=text)

    batch, nonce = posix_batch.build(steps, manifest_of.timeout, manifest_of.cap, frame=frame)
    manifest = manifest_of(nonce)
    head = SH_HEAD.format(
        listing=_listing(plan, who),
        script=shlex.quote(script_name),
        nonce=nonce,
        magic=MAGIC,
        fmt=KIT_FORMAT,
        manifest=manifest.model_dump_json(),
        n=n,
    )
    # The batch's first line sets N (already set above, to the same nonce).
    return head + batch + SH_TAIL.format(n=n)


# ---------------------------------------------------------------------------------- PowerShell

PS_HEAD = """\
{listing}#
# Usage (PowerShell 2.0 or later, as Administrator for full results):
#   powershell.exe -NoProfile -ExecutionPolicy Bypass -File {script} [-Out FILE] [-Operator "name"]
#   -Out       where to write (default .\\e8kit-<computer>-<UTC time>.txt); must not exist yet
#   -Operator  who ran it, recorded in the file (default: the account's name only)
# As a standard user the reads that need an administrator come out as "no visibility".
param([string]$Out = '', [string]$Operator = '')
$E8Host = [string]$env:COMPUTERNAME
if (-not $Out) {{
  $E8Stamp = [DateTime]::UtcNow.ToString('yyyyMMddTHHmmss') + 'Z'
  $Out = Join-Path (Get-Location).ProviderPath ('e8kit-' + $E8Host + '-' + $E8Stamp + '.txt')
}}
try {{
  $E8File = [IO.File]::Open($Out, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, [IO.FileShare]::Read)
}} catch {{
  [Console]::Error.WriteLine("e8kit: cannot create $Out ($($_.Exception.Message)); nothing collected")
  exit 1
}}
$N = '{nonce}'
$E8Sha = [Security.Cryptography.SHA256]::Create()
$E8Utf8 = New-Object Text.UTF8Encoding $false
$E8Con = [Console]::Out
function E8Bytes([byte[]]$b) {{ $E8File.Write($b, 0, $b.Length) }}
function E8Rec([string]$name, [string]$s) {{
  $b = $E8Utf8.GetBytes($s)
  E8Bytes $b
  $h = [BitConverter]::ToString($E8Sha.ComputeHash($b)).Replace('-', '').ToLower()
  E8Bytes ([Text.Encoding]::ASCII.GetBytes("`n$N S $name $($b.Length) $h`n"))
  $E8File.Flush()
}}
"""

PS_RECORDS = """\
E8Bytes ([Text.Encoding]::ASCII.GetBytes("{magic} {fmt} windows $N`n"))
E8Rec 'manifest' (@'
{manifest}
'@ + "`n")
$E8Id = [Security.Principal.WindowsIdentity]::GetCurrent()
$E8Role = [Security.Principal.WindowsBuiltInRole]::Administrator
$E8Admin = (New-Object Security.Principal.WindowsPrincipal $E8Id).IsInRole($E8Role)
$E8Guid = ''
try {{
  $E8Key = 'HKLM:\\SOFTWARE\\Microsoft\\Cryptography'
  $E8Guid = [string](Get-ItemProperty -Path $E8Key -Name MachineGuid -ErrorAction Stop).MachineGuid
}} catch {{ $E8Guid = '' }}
$E8Who = $Operator -replace '[\\r\\n]', ' '
$E8Now = [DateTime]::UtcNow.ToString('s') + 'Z'
E8Rec 'host' ("hostname=$E8Host`nmachine_id=$E8Guid`naccount=$($E8Id.Name)`nadmin=$E8Admin`n" +
  "operator=$E8Who`nstarted=$E8Now`n")
[Console]::Error.WriteLine("e8kit: running {n} read-only commands; output to $Out")
"""

# Step i: E8Step writes its frames to [Console]::Out, pointed at a string for the step.
PS_STEP = """\
[Console]::Error.WriteLine('e8kit: {k} of {n}')
$E8W = New-Object IO.StringWriter
[Console]::SetOut($E8W)
try {{
{step}}} finally {{ [Console]::SetOut($E8Con) }}
E8Rec 'out.{i}' $E8W.ToString()
"""

PS_TAIL = """\
E8Rec 'end' ("finished=$([DateTime]::UtcNow.ToString('s'))Z`nsteps={n}`n")
$E8File.Close()
[Console]::Error.WriteLine("e8kit: wrote $Out; bring it back and run: e8scan import <file> --out <folder>")
"""


def windows_kit(plan: HostPlan, manifest_of: ManifestOf, script_name: str, who: str) -> str:
    """The PowerShell (2.0) kit for ``plan``."""
    lines = [c.step.line for c in plan.commands]
    n = len(lines)

    def frame(i: int, text: str) -> str:
        return PS_STEP.format(i=i, k=i + 1, n=n, step=text)

    batch, nonce = ps_batch.build(lines, manifest_of.timeout, manifest_of.cap, frame=frame)
    manifest = manifest_of(nonce).model_dump_json()
    # ASCII only (the .ps1 is read in the ANSI code page by PowerShell 2.0 without a BOM).
    manifest = json.dumps(json.loads(manifest), ensure_ascii=True, separators=(",", ":"))
    head = PS_HEAD.format(listing=_listing(plan, who), script=script_name, nonce=nonce)
    records = PS_RECORDS.format(magic=MAGIC, fmt=KIT_FORMAT, manifest=manifest, n=n)
    # The batch's preamble sets $N again, to the same nonce.
    text = head + records + batch + PS_TAIL.format(n=n)
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


class ManifestOf:
    """Makes a plan's manifest once the batch (and so the nonce) exists."""

    def __init__(
        self, plan: HostPlan, inventory_host: bool, timeout: int, cap: int, created: datetime
    ) -> None:
        self.plan, self.inventory_host = plan, inventory_host
        self.timeout, self.cap, self.created = timeout, cap, created

    def __call__(self, nonce: str) -> KitManifest:
        return _manifest(
            self.plan, self.inventory_host, nonce, self.timeout, self.cap, self.created
        )


def kit_name(plan: HostPlan, inventory_host: bool) -> str:
    """The script's file name: ``e8kit-<host>.sh`` / ``.ps1``, or ``e8kit-<platform>``."""
    ext = ".ps1" if plan.platform is Platform.WINDOWS else ".sh"
    stem = plan.host.name if inventory_host else plan.platform.value
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)
    return f"e8kit-{safe}{ext}"


def write_kit(
    plan: HostPlan,
    out_dir: Path,
    inventory_host: bool,
    created: datetime,
    timeout: int = 60,
    cap: int = 1 << 20,
) -> Path:
    """Write ``plan``'s kit script into ``out_dir``; returns its path."""
    if plan.platform is Platform.DIRECTORY:
        raise InputError(
            f"host {plan.host.name}",
            "a directory target is read over LDAP by `e8scan scan`; the field kit is for "
            "Linux and Windows hosts",
        )
    name = kit_name(plan, inventory_host)
    who = f"host {plan.host.name}" if inventory_host else f"{plan.host.name}s"
    of = ManifestOf(plan, inventory_host, timeout, cap, created)
    path = out_dir / name
    if plan.platform is Platform.WINDOWS:
        path.write_bytes(b"\xef\xbb\xbf" + windows_kit(plan, of, name, who).encode("utf-8"))
    else:
        path.write_text(linux_kit(plan, of, name, who), encoding="utf-8")
        path.chmod(0o755)
    return path
