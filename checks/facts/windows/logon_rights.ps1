$os = Get-WmiObject Win32_OperatingSystem
$cs = Get-WmiObject Win32_ComputerSystem
$out = @{ computer = $env:COMPUTERNAME; product_type = [int]$os.ProductType;
  part_of_domain = [bool]$cs.PartOfDomain; domain = [string]$cs.Domain; rights = @(); error = $null }
$sidT = [System.Security.Principal.SecurityIdentifier]
$ntT = [System.Security.Principal.NTAccount]
$wanted = 'SeInteractiveLogonRight', 'SeRemoteInteractiveLogonRight',
  'SeDenyInteractiveLogonRight', 'SeDenyRemoteInteractiveLogonRight'
try {
  foreach ($r in @(Get-WmiObject -Namespace 'root\rsop\computer' -Class RSOP_UserPrivilegeRight -ErrorAction Stop)) {
    if ($r.precedence -ne 1 -or $wanted -notcontains $r.UserRight) { continue }
    $accts = @()
    foreach ($a in @($r.AccountList)) {
      $s = [string]$a
      $e = @{ entry = $s; sid = $null; name = $null }
      try {
        if ($s.StartsWith('*S-1-') -or $s.StartsWith('S-1-')) {
          $e.sid = $s.TrimStart('*')
          $e.name = (New-Object System.Security.Principal.SecurityIdentifier($e.sid)).Translate($ntT).Value
        } else {
          $e.name = $s
          $e.sid = (New-Object System.Security.Principal.NTAccount($s)).Translate($sidT).Value
        }
      } catch { }
      $accts += New-Object PSObject -Property $e
    }
    $out.rights += New-Object PSObject -Property @{ right = [string]$r.UserRight; accounts = $accts }
  }
} catch { $out.error = $_.Exception.Message }
New-Object PSObject -Property $out | ConvertTo-Json -Depth 5 -Compress
