$hku = [Microsoft.Win32.Registry]::Users
$me = [System.Security.Principal.WindowsIdentity]::GetCurrent().User.Value
$users = @()
$rows = @()
foreach ($sid in $hku.GetSubKeyNames()) {
  if ($sid -notmatch '^S-1-(5-21|12-1)-[0-9-]+$') { continue }
  $name = $null
  $sidObj = New-Object System.Security.Principal.SecurityIdentifier($sid)
  try { $name = $sidObj.Translate([System.Security.Principal.NTAccount]).Value } catch { }
  $hasOffice = $null -ne $hku.OpenSubKey("$sid\Software\Microsoft\Office\16.0")
  $users += New-Object PSObject -Property @{ sid = $sid; name = $name; office_profile = $hasOffice }
  $rows += @(E8Read $hku $sid 'cloud' "$sid\Software\Policies\Microsoft\Cloud\Office\16.0")
  $rows += @(E8Read $hku $sid 'user_policy' "$sid\Software\Policies\Microsoft\Office\16.0")
  $rows += @(E8Read $hku $sid 'preference' "$sid\Software\Microsoft\Office\16.0")
}
