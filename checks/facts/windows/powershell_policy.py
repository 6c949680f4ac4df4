"""Windows PowerShell's machine policy and what enforces Constrained Language Mode (fact
``windows.powershell_policy``, ``powershell_policy.ps1``).

Registry through .NET: ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell`` module logging
(and ``ModuleNames``), script block logging, transcription (and ``OutputDirectory``), the
``__PSLockdownPolicy`` system environment variable; WDAC's user-mode code integrity status
(``Win32_DeviceGuard``), AppLocker's effective policy XML and the ``AppIDSvc`` service status. The
value is the snippet's JSON object as printed (keys ``module``, ``module_names``, ``scriptblock``,
``transcription``, ``transcript_dir``, ``lockdown``, ``umci``, ``umci_error``, ``applocker``,
``applocker_error``, ``appidsvc``).
"""

from __future__ import annotations

from checks.facts.reading import json_object
from checks.facts.windows.powershell import ps_fact

POWERSHELL_POLICY = ps_fact(
    "windows.powershell_policy", "checks.facts.windows", "powershell_policy.ps1", json_object
)
