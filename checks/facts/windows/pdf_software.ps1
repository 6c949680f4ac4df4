$lm = [Microsoft.Win32.Registry]::LocalMachine
$r = @{ apps = @{}; products = @{}; lockdown = @{} }
foreach ($b in 'SOFTWARE\Microsoft\Windows\CurrentVersion', 'SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion') {
  foreach ($e in 'AcroRd32.exe', 'Acrobat.exe', 'FoxitPDFReader.exe', 'FoxitReader.exe', 'PDFXEdit.exe') {
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
        if ($n -match 'Adobe Acrobat|Acrobat Reader|Adobe Reader|Foxit|PDF-XChange|Nitro PDF|Nitro Pro|SumatraPDF') {
          $r.products[$n] = [string]$k.GetValue('DisplayVersion')
        }
      }
    }
  }
}
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
