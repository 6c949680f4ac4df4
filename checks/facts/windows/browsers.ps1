$lm = [Microsoft.Win32.Registry]::LocalMachine
function Read-Key($k, $d) {
  if (-not $k) { return $null }
  $o = @{}
  foreach ($n in $k.GetValueNames()) { $o[$n] = $k.GetValue($n) }
  if ($d -lt 3) { foreach ($s in $k.GetSubKeyNames()) { $o[$s] = Read-Key $k.OpenSubKey($s) ($d + 1) } }
  $o
}
$r = @{ apps = @{}; versions = @{}; policies = @{}; firefox_json = @{}; java = @{} }
$bases = 'SOFTWARE\Microsoft\Windows\CurrentVersion', 'SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion'
foreach ($b in $bases) {
  foreach ($e in 'chrome.exe', 'msedge.exe', 'firefox.exe') {
    $k = $lm.OpenSubKey("$b\App Paths\$e")
    if ($k -and -not $r.apps[$e]) {
      $p = ([string]$k.GetValue('')).Trim('"')
      if ($p -and [IO.File]::Exists($p)) { $r.apps[$e] = $p }
    }
  }
  $u = $lm.OpenSubKey("$b\Uninstall")
  if ($u) {
    foreach ($s in $u.GetSubKeyNames()) {
      $k = $u.OpenSubKey($s)
      if ($k) {
        $n = [string]$k.GetValue('DisplayName')
        if ($n -match '^(Google Chrome|Microsoft Edge|Mozilla Firefox|Java)') {
          $r.versions[$n] = [string]$k.GetValue('DisplayVersion')
        }
      }
    }
  }
}
foreach ($p in 'Google\Chrome', 'Microsoft\Edge', 'Mozilla\Firefox') {
  $r.policies[$p] = Read-Key $lm.OpenSubKey("SOFTWARE\Policies\$p") 0
}
foreach ($d in $env:ProgramFiles, ${env:ProgramFiles(x86)}) {
  if ($d) {
    $f = Join-Path $d 'Mozilla Firefox\distribution\policies.json'
    if ([IO.File]::Exists($f)) { $r.firefox_json[$f] = [IO.File]::ReadAllText($f) }
  }
}
foreach ($n in 'deployment.config', 'deployment.properties') {
  $f = Join-Path $env:windir "Sun\Java\Deployment\$n"
  if ([IO.File]::Exists($f)) { $r.java[$n] = [IO.File]::ReadAllText($f) }
}
New-Object PSObject -Property $r | ConvertTo-Json -Depth 6 -Compress
