$r = @()
foreach ($n in @('Microsoft-Windows-AppLocker/EXE and DLL', 'Microsoft-Windows-AppLocker/MSI and Script', 'Microsoft-Windows-CodeIntegrity/Operational')) {
  try { $l = Get-WinEvent -ListLog $n -ErrorAction Stop; $r += @{ name = [string]$l.LogName; enabled = [bool]$l.IsEnabled; records = $l.RecordCount; max = $l.MaximumSizeInBytes } }
  catch { $r += @{ name = $n; error = $_.Exception.Message } }
}
ConvertTo-Json -InputObject @($r) -Depth 4 -Compress
