$lm = [Microsoft.Win32.Registry]::LocalMachine
$r = @{ providers = @(); defender = $null; defender_error = $null }
$k = $lm.OpenSubKey('SOFTWARE\Microsoft\AMSI\Providers')
if ($k) {
  foreach ($g in $k.GetSubKeyNames()) {
    $n = $null
    $c = $lm.OpenSubKey("SOFTWARE\Classes\CLSID\$g")
    if ($c) { $n = [string]$c.GetValue('') }
    $r.providers += New-Object PSObject -Property @{ clsid = $g; name = $n }
  }
}
if (Get-Command Get-MpComputerStatus -ErrorAction SilentlyContinue) {
  try {
    $s = Get-MpComputerStatus -ErrorAction Stop
    $r.defender = New-Object PSObject -Property @{
      AMServiceEnabled = $s.AMServiceEnabled
      AntivirusEnabled = $s.AntivirusEnabled
      RealTimeProtectionEnabled = $s.RealTimeProtectionEnabled
      AMRunningMode = [string]$s.AMRunningMode
    }
  } catch { $r.defender_error = $_.Exception.Message }
}
New-Object PSObject -Property $r | ConvertTo-Json -Depth 5 -Compress
