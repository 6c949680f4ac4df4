$lm = [Microsoft.Win32.Registry]::LocalMachine
function ReadValues($path, $names) {
  $h = @{}
  $k = $lm.OpenSubKey($path)
  if ($k) { foreach ($n in $names) { $v = $k.GetValue($n); if ($null -ne $v) { $h[$n] = $v } } }
  $h
}
$whfb = ReadValues 'SOFTWARE\Policies\Microsoft\PassportForWork' @('Enabled', 'RequireSecurityDevice')
$sys = ReadValues 'SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' @('ScForceOption')
$rdp = ReadValues 'SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp' @('UserAuthentication')
$ts = ReadValues 'SYSTEM\CurrentControlSet\Control\Terminal Server' @('fDenyTSConnections')
$excl = ReadValues 'SOFTWARE\Policies\Microsoft\Windows\System' @('ExcludedCredentialProviders')
$duo = $null
if ($lm.OpenSubKey('SOFTWARE\Duo Security\DuoCredProv')) {
  $duo = ReadValues 'SOFTWARE\Duo Security\DuoCredProv' @('FailOpen', 'RdpOnly')
}
$cp = @()
foreach ($kind in 'Credential Providers', 'Credential Provider Filters') {
  $k = $lm.OpenSubKey("SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\$kind")
  if (-not $k) { continue }
  foreach ($id in $k.GetSubKeyNames()) {
    $name = $null; $dll = $null; $dis = $null
    $c = $lm.OpenSubKey("SOFTWARE\Classes\CLSID\$id")
    if ($c) { $name = $c.GetValue(''); $s = $c.OpenSubKey('InprocServer32'); if ($s) { $dll = $s.GetValue('') } }
    $e = $k.OpenSubKey($id)
    if ($e) { $dis = $e.GetValue('Disabled') }
    $cp += New-Object PSObject -Property @{ kind = $kind; clsid = $id; name = [string]$name;
      dll = [string]$dll; disabled = $dis }
  }
}
$ds = & dsregcmd.exe /status 2>&1 | Out-String
$out = @{ whfb = $whfb; system = $sys; rdp = $rdp; ts = $ts; providers = $cp; dsreg = $ds
  excluded = $excl; duo = $duo }
New-Object PSObject -Property $out | ConvertTo-Json -Depth 4 -Compress
