$lm = [Microsoft.Win32.Registry]::LocalMachine
$base = 'SOFTWARE\Policies\Microsoft\Windows\PowerShell'
$r = @{ module = $null; module_names = @(); scriptblock = $null; transcription = $null; transcript_dir = $null
  lockdown = $null; umci = $null; umci_error = $null; applocker = $null; applocker_error = $null; appidsvc = $null }
$k = $lm.OpenSubKey("$base\ModuleLogging"); if ($k) { $r.module = $k.GetValue('EnableModuleLogging') }
$k = $lm.OpenSubKey("$base\ModuleLogging\ModuleNames")
if ($k) { foreach ($n in $k.GetValueNames()) { $r.module_names += [string]$k.GetValue($n) } }
$k = $lm.OpenSubKey("$base\ScriptBlockLogging"); if ($k) { $r.scriptblock = $k.GetValue('EnableScriptBlockLogging') }
$k = $lm.OpenSubKey("$base\Transcription")
if ($k) { $r.transcription = $k.GetValue('EnableTranscripting'); $r.transcript_dir = $k.GetValue('OutputDirectory') }
$k = $lm.OpenSubKey('SYSTEM\CurrentControlSet\Control\Session Manager\Environment')
if ($k) { $r.lockdown = $k.GetValue('__PSLockdownPolicy') }
try {
  $dg = Get-WmiObject -Namespace 'root\Microsoft\Windows\DeviceGuard' -Class Win32_DeviceGuard -ErrorAction Stop
  if ($dg) { $r.umci = $dg.UsermodeCodeIntegrityPolicyEnforcementStatus }
} catch { $r.umci_error = [string]$_.Exception.Message }
try { $r.applocker = [string](Get-AppLockerPolicy -Effective -Xml -ErrorAction Stop) }
catch { $r.applocker_error = [string]$_.Exception.Message }
$s = Get-Service -Name AppIDSvc -ErrorAction SilentlyContinue
if ($s) { $r.appidsvc = [string]$s.Status }
New-Object PSObject -Property $r | ConvertTo-Json -Depth 4 -Compress
