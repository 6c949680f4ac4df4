$pc = $env:COMPUTERNAME
$os = Get-WmiObject Win32_OperatingSystem
$lm = [Microsoft.Win32.Registry]::LocalMachine
$fmt = "yyyy-MM-dd'T'HH:mm:ss'Z'"
$inv = [Globalization.CultureInfo]::InvariantCulture
$lapsKeys = 'SOFTWARE\Microsoft\Policies\LAPS', 'SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\LAPS',
  'SOFTWARE\Microsoft\Windows\CurrentVersion\LAPS\Config', 'SOFTWARE\Policies\Microsoft Services\AdmPwd'
$lapsNames = 'AdministratorAccountName', 'AdminAccountName', 'AutomaticAccountManagementNameOrPrefix'
$laps = @()
foreach ($p in $lapsKeys) {
  $k = $lm.OpenSubKey($p)
  if (-not $k) { continue }
  foreach ($n in $lapsNames) {
    $v = $k.GetValue($n)
    if ($v) { $laps += New-Object PSObject -Property @{ value_name = $n; value = [string]$v } }
  }
}
$groupSids = 'S-1-5-32-544', 'S-1-5-32-548', 'S-1-5-32-549', 'S-1-5-32-550', 'S-1-5-32-551',
  'S-1-5-32-578', 'S-1-5-32-555', 'S-1-5-32-580'
$groups = @()
foreach ($gs in $groupSids) {
  $sidObj = New-Object System.Security.Principal.SecurityIdentifier($gs)
  try { $gn = $sidObj.Translate([System.Security.Principal.NTAccount]).Value } catch { continue }
  $gn = $gn.Substring($gn.IndexOf('\') + 1)
  $members = @()
  foreach ($m in @(([ADSI]"WinNT://$pc/$gn,group").psbase.Invoke('Members'))) {
    $t = $m.GetType()
    $e = @{ path = $null; class = $null; sid = $null }
    try { $e.path = [string]$t.InvokeMember('ADsPath', 'GetProperty', $null, $m, $null) } catch { }
    try { $e.class = [string]$t.InvokeMember('Class', 'GetProperty', $null, $m, $null) } catch { }
    try {
      $raw = $t.InvokeMember('objectSid', 'GetProperty', $null, $m, $null)
      $e.sid = (New-Object System.Security.Principal.SecurityIdentifier($raw, 0)).Value
    } catch { }
    if ($e.class -eq 'User' -and $e.path -like "WinNT://*/$pc/*") {
      $e.flags = $null
      $e.last_login = $null
      try {
        $u = [ADSI]$e.path
        $e.flags = [int]$u.UserFlags.Value
        $e.last_login = $u.LastLogin.Value.ToUniversalTime().ToString($fmt, $inv)
      } catch { }
    }
    $members += New-Object PSObject -Property $e
  }
  $groups += New-Object PSObject -Property @{ sid = $gs; name = $gn; members = $members }
}
$out = @{ computer = $pc; product_type = [int]$os.ProductType; groups = $groups; laps_accounts = $laps }
New-Object PSObject -Property $out | ConvertTo-Json -Depth 5 -Compress
