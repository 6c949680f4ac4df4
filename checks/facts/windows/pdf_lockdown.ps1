foreach ($b in 'SOFTWARE\Policies\Adobe', 'SOFTWARE\WOW6432Node\Policies\Adobe') {
  foreach ($p in 'Acrobat Reader', 'Adobe Acrobat') {
    $k = $lm.OpenSubKey("$b\$p")
    if ($k) {
      foreach ($v in $k.GetSubKeyNames()) {
        $f = $k.OpenSubKey("$v\FeatureLockDown")
        if ($f) {
          $o = @{}
          foreach ($n in $f.GetValueNames()) { $o[$n] = $f.GetValue($n) }
          $r.lockdown["$b\$p\$v"] = $o
        }
      }
    }
  }
}
New-Object PSObject -Property $r | ConvertTo-Json -Depth 4 -Compress
