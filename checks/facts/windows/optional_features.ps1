$r = @{ product_type = $null; build = $null; optional = @{}; optional_error = $null; server = @{}; server_error = $null; reg = $reg }
try { $os = Get-WmiObject Win32_OperatingSystem -ErrorAction Stop; $r.product_type = [int]$os.ProductType; $r.build = [string]$os.BuildNumber } catch { }
foreach ($n in $optional) {
  try {
    $f = Get-WindowsOptionalFeature -Online -FeatureName $n -ErrorAction Stop
    if ($f) { $r.optional[$n] = [string]$f.State } else { $r.optional[$n] = 'Absent' }
  } catch {
    $m = [string]$_.Exception.Message
    if ($m -match 'is unknown') { $r.optional[$n] = 'Unknown' } else { $r.optional_error = $m }
  }
}
if ($r.product_type -ne 1 -and (Get-Command Get-WindowsFeature -ErrorAction SilentlyContinue)) {
  foreach ($n in $server) {
    try {
      $f = Get-WindowsFeature -Name $n -ErrorAction Stop
      if ($f) { $r.server[$n] = [string]$f.InstallState } else { $r.server[$n] = 'Absent' }
    } catch { $r.server_error = [string]$_.Exception.Message }
  }
}
New-Object PSObject -Property $r | ConvertTo-Json -Depth 4 -Compress
