$apps = 'word', 'excel', 'powerpoint', 'access', 'visio', 'ms project', 'publisher'
$raw = [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames
function E8Row($sid, $root, $app, $name, $value) {
  New-Object PSObject -Property @{ sid = $sid; root = $root; app = $app; name = $name; value = $value }
}
function E8Read($hive, $sid, $root, $base) {
  foreach ($a in $apps) {
    $k = $hive.OpenSubKey("$base\$a\security")
    if ($k) { $v = $k.GetValue('VBAWarnings'); if ($null -ne $v) { E8Row $sid $root $a 'vbawarnings' $v } }
    $t = $hive.OpenSubKey("$base\$a\security\trusted locations")
    if ($t) {
      foreach ($n in 'AllLocationsDisabled', 'AllowNetworkLocations') {
        $v = $t.GetValue($n); if ($null -ne $v) { E8Row $sid $root $a $n.ToLower() $v }
      }
      foreach ($l in $t.GetSubKeyNames()) {
        $p = $t.OpenSubKey($l).GetValue('Path', $null, $raw)
        if ($p) { E8Row $sid $root $a 'location' ([string]$p) }
      }
    }
    $d = $hive.OpenSubKey("$base\$a\DisabledCmdBarItemsList")
    if ($d) {
      foreach ($n in $d.GetValueNames()) {
        if ([string]$d.GetValue($n) -eq '19092') { E8Row $sid $root $a 'tcid19092' 1 }
      }
    }
  }
  $k = $hive.OpenSubKey("$base\common\trustcenter")
  if ($k) { $v = $k.GetValue('TrustBar'); if ($null -ne $v) { E8Row $sid $root 'common' 'trustbar' $v } }
}
