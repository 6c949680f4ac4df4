"""Windows optional features and server roles as the user_app_hardening checks read them.

Each check declares a literal snippet built here from constant feature names:
``Get-WindowsOptionalFeature -Online -FeatureName <n>`` per name (a name the image does not know —
e.g. the client PowerShell 2.0 feature on Server SKUs, corpus
``windows/disable-windowsoptionalfeature_psv2root_unknown_ws2019.txt`` — is recorded as
``Unknown``), ``Get-WindowsFeature <n>`` on servers (``InstallState``), the OS product type, and a
few registry values read through .NET (no error when missing). Errors are captured per part so
the judge can fall back. Pure helpers only; no check lives here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ENABLED = {"enabled", "enablepending"}
OFF = {"disabled", "disabledwithpayloadremoved", "disablepending", "unknown", "absent"}
SERVER_ON = {"installed", "installpending"}
SERVER_OFF = {"available", "removed", "uninstallpending", "absent"}


def snippet(optional: tuple[str, ...], server: tuple[str, ...], registry: str = "") -> str:
    """A read-only PowerShell snippet; ``registry`` is extra PowerShell filling ``$r.reg``."""
    opt = ", ".join(f"'{n}'" for n in optional)
    srv = ", ".join(f"'{n}'" for n in server)
    return (
        "$r = @{ product_type = $null; build = $null; optional = @{}; optional_error = $null;"
        " server = @{}; server_error = $null; reg = @{} }\n"
        "try { $os = Get-WmiObject Win32_OperatingSystem -ErrorAction Stop;"
        " $r.product_type = [int]$os.ProductType; $r.build = [string]$os.BuildNumber } catch { }\n"
        f"foreach ($n in @({opt})) {{\n"
        "  try {\n"
        "    $f = Get-WindowsOptionalFeature -Online -FeatureName $n -ErrorAction Stop\n"
        "    if ($f) { $r.optional[$n] = [string]$f.State } else { $r.optional[$n] = 'Absent' }\n"
        "  } catch {\n"
        "    $m = [string]$_.Exception.Message\n"
        "    if ($m -match 'is unknown') { $r.optional[$n] = 'Unknown' } else { $r.optional_error = $m }\n"
        "  }\n"
        "}\n"
        "if ($r.product_type -ne 1 -and (Get-Command Get-WindowsFeature -ErrorAction SilentlyContinue)) {\n"
        f"  foreach ($n in @({srv})) {{\n"
        "    try {\n"
        "      $f = Get-WindowsFeature -Name $n -ErrorAction Stop\n"
        "      if ($f) { $r.server[$n] = [string]$f.InstallState } else { $r.server[$n] = 'Absent' }\n"
        "    } catch { $r.server_error = [string]$_.Exception.Message }\n"
        "  }\n"
        "}\n"
        "$lm = [Microsoft.Win32.Registry]::LocalMachine\n"
        f"{registry}"
        "New-Object PSObject -Property $r | ConvertTo-Json -Depth 4 -Compress"
    )


def states(data: Mapping[str, Any], part: str) -> dict[str, str]:
    value = data.get(part)
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def verdict(
    data: Mapping[str, Any], optional: tuple[str, ...], server: tuple[str, ...]
) -> tuple[bool | None, str]:
    """(True = some feature is on, False = all read and off, None = not decidable), and the text."""
    opt = states(data, "optional")
    srv = states(data, "server")
    on = [f"{n} {s}" for n, s in opt.items() if s.lower() in ENABLED]
    on += [f"{n} {s}" for n, s in srv.items() if s.lower() in SERVER_ON]
    seen = ", ".join(f"{n} {s}" for n, s in {**opt, **srv}.items())
    if on:
        return True, f"feature state: {', '.join(on)} (all read: {seen})"
    opt_done = all(opt.get(n, "").lower() in OFF for n in optional)
    if not opt_done:
        unknown = [f"{n} {opt[n]}" for n in optional if n in opt and opt[n].lower() not in OFF]
        err = data.get("optional_error")
        why = (
            f"unrecognised state {', '.join(unknown)}"
            if unknown
            else f"optional feature read failed: {err or 'no state returned'}"
        )
        return None, why
    if server and data.get("server_error"):
        return None, f"server feature read failed: {data.get('server_error')}"
    return False, f"feature state: {seen}"
