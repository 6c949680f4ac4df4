$lm = [Microsoft.Win32.Registry]::LocalMachine
$os = Get-WmiObject Win32_OperatingSystem
$keys = @{
  lsa = 'SYSTEM\CurrentControlSet\Control\Lsa'
  dg_policy = 'SOFTWARE\Policies\Microsoft\Windows\DeviceGuard'
  dg = 'SYSTEM\CurrentControlSet\Control\DeviceGuard'
  hvci = 'SYSTEM\CurrentControlSet\Control\DeviceGuard\Scenarios\HypervisorEnforcedCodeIntegrity'
  delegation = 'SOFTWARE\Policies\Microsoft\Windows\CredentialsDelegation'
}
$names = 'RunAsPPL', 'RunAsPPLBoot', 'LsaCfgFlags', 'DisableRestrictedAdmin', 'EnableVirtualizationBasedSecurity',
  'RequirePlatformSecurityFeatures', 'HypervisorEnforcedCodeIntegrity', 'Enabled', 'Locked', 'AllowProtectedCreds',
  'RestrictedRemoteAdministration', 'RestrictedRemoteAdministrationType'
$r = @{}
foreach ($key in @($keys.Keys)) {
  $v = @{}
  $k = $lm.OpenSubKey($keys[$key])
  if ($k) { foreach ($n in $names) { $x = $k.GetValue($n); if ($null -ne $x) { $v[$n] = $x } } }
  $r[$key] = $v
}
$fmt = "yyyy-MM-dd'T'HH:mm:ss'Z'"
$inv = [Globalization.CultureInfo]::InvariantCulture
$r.product_type = [int]$os.ProductType
$r.build = [string]$os.BuildNumber
$r.boot = $os.ConvertToDateTime($os.LastBootUpTime).ToUniversalTime().ToString($fmt, $inv)
$r.ppl_event = $null
$filter = @{ LogName = 'System'; ProviderName = 'Microsoft-Windows-Wininit'; Id = 12 }
$e = Get-WinEvent -FilterHashtable $filter -MaxEvents 1 -ErrorAction SilentlyContinue
if ($e) { $r.ppl_event = $e.TimeCreated.ToUniversalTime().ToString($fmt, $inv) }
New-Object PSObject -Property $r | ConvertTo-Json -Depth 5 -Compress
