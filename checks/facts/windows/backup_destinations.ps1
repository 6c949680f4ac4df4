$sysDrive = [string]$env:SystemDrive
function E8Disk($letter) {
  try {
    $q = "ASSOCIATORS OF {Win32_LogicalDisk.DeviceID='" + $letter + "'} WHERE AssocClass=Win32_LogicalDiskToPartition"
    $parts = @(Get-WmiObject -Query $q -ErrorAction Stop)
    if ($parts.Count -gt 0) { return [int]$parts[0].DiskIndex }
  } catch { }
  return $null
}
$cands = @()
$wbModule = $false
$wbError = $null
if (Get-Command Get-WBPolicy -ErrorAction SilentlyContinue) {
  $wbModule = $true
  try {
    $pol = Get-WBPolicy -ErrorAction Stop
    if ($pol) {
      foreach ($t in @(Get-WBBackupTarget -Policy $pol -ErrorAction Stop)) {
        $cands += New-Object PSObject -Property @{
            source = 'Get-WBBackupTarget'
            path = [string]$t.Path
            label = [string]$t.Label
            target_type = [string]$t.TargetType
          }
      }
    }
  } catch { $wbError = [string]$_.Exception.Message }
}
$w = Join-Path $env:SystemRoot 'System32\wbadmin.exe'
if (Test-Path -LiteralPath $w) {
  $txt = (& $w get versions 2>&1 | Out-String)
  foreach ($m in [regex]::Matches($txt, '(?m)^\s*Backup location:\s*(.+?)\s*$')) {
    $loc = $m.Groups[1].Value
    $p = $null
    $u = [regex]::Match($loc, '\\\\[^\\\s]+\\[^\s]+')
    if ($u.Success) { $p = $u.Value } else {
      $d = [regex]::Match($loc, '\b([A-Za-z]:)\s*$')
      if ($d.Success) { $p = $d.Groups[1].Value + '\' }
    }
    $cands += New-Object PSObject -Property @{
        source = 'wbadmin get versions'
        path = $p
        label = $loc
        target_type = $null
      }
  }
}
$disks = @(Get-WmiObject Win32_LogicalDisk -ErrorAction SilentlyContinue)
foreach ($ld in $disks) {
  if (@(2, 3, 4) -notcontains [int]$ld.DriveType) { continue }
  $p = [string]$ld.DeviceID + '\WindowsImageBackup'
  if (Test-Path -LiteralPath $p) {
    $cands += New-Object PSObject -Property @{
        source = 'WindowsImageBackup folder'
        path = $p
        label = $null
        target_type = $null
      }
  }
}
$dests = @()
$seen = @{}
foreach ($c in $cands) {
  $key = if ($c.path) { ([string]$c.path).ToLower() } else { 'label:' + [string]$c.label }
  if ($seen.ContainsKey($key)) { $seen[$key].sources += $c.source; continue }
  $e = @{
      path = $c.path
      label = $c.label
      target_type = $c.target_type
      sources = @($c.source)
      drive = $null
      drive_type = $null
      provider = $null
      disk = $null
      exists = $null
      owner = $null
      aces = @()
      acl_error = $null
    }
  if ($c.path -and ([string]$c.path) -match '^([A-Za-z]:)') {
    $e.drive = $matches[1].ToUpper()
    $ld = $disks | Where-Object { $_.DeviceID -eq $e.drive } | Select-Object -First 1
    if ($ld) { $e.drive_type = [int]$ld.DriveType; $e.provider = [string]$ld.ProviderName }
    if ($e.drive_type -ne 4) { $e.disk = E8Disk $e.drive }
  }
  if ($c.path) {
    $e.exists = Test-Path -LiteralPath $c.path
    try {
      $acl = Get-Acl -LiteralPath $c.path -ErrorAction Stop
      $e.owner = [string]$acl.Owner
      foreach ($a in $acl.Access) {
        $sid = $null
        try { $sid = $a.IdentityReference.Translate([System.Security.Principal.SecurityIdentifier]).Value } catch { }
        $e.aces += New-Object PSObject -Property @{
            identity = [string]$a.IdentityReference
            sid = $sid
            rights = [int]$a.FileSystemRights
            type = [string]$a.AccessControlType
            inherited = [bool]$a.IsInherited
          }
      }
    } catch { $e.acl_error = [string]$_.Exception.Message }
  }
  $o = New-Object PSObject -Property $e
  $seen[$key] = $o
  $dests += $o
}
$bl = @()
$blError = $null
try {
  $ns = 'root\cimv2\Security\MicrosoftVolumeEncryption'
  foreach ($v in @(Get-WmiObject -Namespace $ns -Class Win32_EncryptableVolume -ErrorAction Stop)) {
    $bl += New-Object PSObject -Property @{
        drive = [string]$v.DriveLetter
        protection = [int]$v.ProtectionStatus
      }
  }
} catch { $blError = [string]$_.Exception.Message }
$out = @{
    system_drive = $sysDrive
    system_disk = (E8Disk $sysDrive)
    wb_module = $wbModule
    wb_error = $wbError
    destinations = $dests
    bitlocker = $bl
    bitlocker_error = $blError
  }
New-Object PSObject -Property $out | ConvertTo-Json -Depth 5 -Compress
