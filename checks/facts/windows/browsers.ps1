$lm = [Microsoft.Win32.Registry]::LocalMachine
function Read-Key($k, $d) {
  if (-not $k) { return $null }
  $o = @{}
  foreach ($n in $k.GetValueNames()) { $o[$n] = $k.GetValue($n) }
  if ($d -lt 3) { foreach ($s in $k.GetSubKeyNames()) { $o[$s] = Read-Key $k.OpenSubKey($s) ($d + 1) } }
  $o
}
$r = @{ apps = @{}; versions = @{}; policies = @{}; firefox_json = @{}; java = @{} }
$exes = 'chrome.exe', 'msedge.exe', 'firefox.exe'
$pattern = '^(Google Chrome|Microsoft Edge|Mozilla Firefox|Java)'
$versions = $r.versions
