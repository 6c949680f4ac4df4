$bases = 'SOFTWARE\Microsoft\Windows\CurrentVersion', 'SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion'
foreach ($b in $bases) {
  foreach ($e in $exes) {
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
        if ($n -match $pattern) {
          $versions[$n] = [string]$k.GetValue('DisplayVersion')
        }
      }
    }
  }
}
