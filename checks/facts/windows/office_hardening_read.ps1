$apps = 'word', 'excel', 'powerpoint'
function E8Row($sid, $root, $app, $name, $value) {
  New-Object PSObject -Property @{ sid = $sid; root = $root; app = $app; name = $name; value = $value }
}
function E8Read($hive, $sid, $root, $base) {
  foreach ($a in $apps) {
    $k = $hive.OpenSubKey("$base\$a\security")
    if ($k) { $v = $k.GetValue('packagerprompt'); if ($null -ne $v) { E8Row $sid $root $a 'packagerprompt' $v } }
    $k = $hive.OpenSubKey("$base\$a\security\protectedview")
    if ($k) {
      foreach ($n in 'disableinternetfilesinpv', 'disableattachmentsinpv', 'disableunsafelocationsinpv') {
        $v = $k.GetValue($n)
        if ($null -ne $v) { E8Row $sid $root $a $n $v }
      }
    }
  }
}
