$lm = [Microsoft.Win32.Registry]::LocalMachine
$os = Get-WmiObject Win32_OperatingSystem
$paths = @{
  csp = 'SOFTWARE\Microsoft\Policies\LAPS'
  gpo = 'SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\LAPS'
  local = 'SOFTWARE\Microsoft\Windows\CurrentVersion\LAPS\Config'
  policies = 'SOFTWARE\Policies\Microsoft\LAPS'
  legacy = 'SOFTWARE\Policies\Microsoft Services\AdmPwd'
}
$names = 'BackupDirectory', 'PasswordLength', 'PasswordComplexity', 'PassphraseLength', 'PasswordAgeDays',
  'AdministratorAccountName', 'ADPasswordEncryptionEnabled', 'ADBackupDSRMPassword', 'PostAuthenticationActions',
  'AutomaticAccountManagementEnabled', 'AdmPwdEnabled', 'AdminAccountName', 'PwdExpirationProtectionEnabled'
$roots = @{}
foreach ($root in @($paths.Keys)) {
  $k = $lm.OpenSubKey($paths[$root])
  if (-not $k) { continue }
  $v = @{}
  foreach ($n in $names) { $x = $k.GetValue($n); if ($null -ne $x) { $v[$n] = $x } }
  $roots[$root] = @{ count = $k.ValueCount; values = $v }
}
$sys = Join-Path $env:windir 'System32'
$winLaps = (Test-Path -LiteralPath (Join-Path $sys 'laps.dll'))
if (-not $winLaps) { $winLaps = Test-Path -LiteralPath (Join-Path $sys 'WindowsPowerShell\v1.0\Modules\LAPS') }
$cseKey = 'SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\GPExtensions\{D76B9641-3288-4f75-942D-087DE603E3EA}'
$out = @{
  product_type = [int]$os.ProductType
  roots = $roots
  windows_laps = $winLaps
  legacy_cse_file = (Test-Path -LiteralPath (Join-Path $env:ProgramFiles 'LAPS\CSE\AdmPwd.dll'))
  legacy_cse_registered = ($null -ne $lm.OpenSubKey($cseKey))
}
New-Object PSObject -Property $out | ConvertTo-Json -Depth 5 -Compress
