$apps = 'word', 'excel', 'powerpoint', 'access', 'outlook', 'visio', 'ms project', 'publisher'
function E8Row($sid, $root, $app, $name, $value) {
  New-Object PSObject -Property @{ sid = $sid; root = $root; app = $app; name = $name; value = $value }
}
function E8Read($hive, $sid, $root, $base) {
  foreach ($a in $apps) {
    $k = $hive.OpenSubKey("$base\$a\security")
    if (-not $k) { continue }
    foreach ($n in 'VBAWarnings', 'blockcontentexecutionfrominternet', 'level') {
      $v = $k.GetValue($n)
      if ($null -ne $v) { E8Row $sid $root $a $n $v }
    }
  }
  $k = $hive.OpenSubKey("$base\common\security")
  if ($k) {
    $v = $k.GetValue('macroruntimescanscope')
    if ($null -ne $v) { E8Row $sid $root 'common' 'macroruntimescanscope' $v }
  }
}
