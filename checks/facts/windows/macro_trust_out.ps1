$rows += @(E8Read ([Microsoft.Win32.Registry]::LocalMachine) $null 'machine' 'SOFTWARE\Policies\Microsoft\Office\16.0')
$acls = @()
$seen = @{}
foreach ($r in $rows) {
  if ($r.name -ne 'location' -or $seen[$r.value]) { continue }
  $seen[$r.value] = $true
  $e = @{ path = $r.value; rules = @(); error = $null }
  if ($r.value -match '%(appdata|localappdata|userprofile|homepath|homedrive|temp|tmp|username|onedrive)%') {
    $e.error = 'user-relative path'
  } else {
    try {
      $acl = Get-Acl -Path ([Environment]::ExpandEnvironmentVariables($r.value)) -ErrorAction Stop
      foreach ($x in $acl.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier])) {
        $e.rules += New-Object PSObject -Property @{ sid = [string]$x.IdentityReference;
          rights = [int]$x.FileSystemRights; type = [string]$x.AccessControlType }
      }
    } catch { $e.error = $_.Exception.Message }
  }
  $acls += New-Object PSObject -Property $e
}
$o = @{ scanner = $me; users = $users; values = $rows; acls = $acls }
New-Object PSObject -Property $o | ConvertTo-Json -Depth 5 -Compress
