$r = @{}
try {
  $dg = Get-WmiObject -Namespace root\Microsoft\Windows\DeviceGuard -Class Win32_DeviceGuard -ErrorAction Stop
  $r.deviceguard = @{
    km = $dg.CodeIntegrityPolicyEnforcementStatus
    um = $dg.UsermodeCodeIntegrityPolicyEnforcementStatus
    running = @($dg.SecurityServicesRunning)
  }
} catch { $r.deviceguard_error = $_.Exception.Message }
$ci = Join-Path $env:windir 'System32\CodeIntegrity'
$active = Join-Path $ci 'CiPolicies\Active'
$r.cip = @(Get-ChildItem -LiteralPath $active -Filter *.cip -ErrorAction SilentlyContinue |
  ForEach-Object { @{ name = $_.Name; modified = $_.LastWriteTimeUtc.ToString('o') } })
$r.sipolicy = Test-Path -LiteralPath (Join-Path $ci 'SiPolicy.p7b')
$citool = Join-Path $env:windir 'System32\CiTool.exe'
if (Test-Path -LiteralPath $citool) {
  try { $r.citool = (& $citool --list-policies 2>$null | Out-String) }
  catch { $r.citool_error = $_.Exception.Message }
}
try { $r.applocker = [string](Get-AppLockerPolicy -Effective -Xml -ErrorAction Stop) }
catch { $r.applocker_error = $_.Exception.Message }
$svc = Get-WmiObject Win32_Service -Filter "Name='AppIDSvc'" -ErrorAction SilentlyContinue
if ($svc) { $r.appidsvc = @{ state = [string]$svc.State; start = [string]$svc.StartMode } }
$k = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SYSTEM\CurrentControlSet\Control\CI\Config')
if ($k) { $r.vdb = $k.GetValue('VulnerableDriverBlocklistEnable') }
$os = Get-WmiObject Win32_OperatingSystem
$r.product_type = [int]$os.ProductType
$r.build = [string]$os.BuildNumber
$r.caption = [string]$os.Caption
New-Object PSObject -Property $r | ConvertTo-Json -Depth 4 -Compress
