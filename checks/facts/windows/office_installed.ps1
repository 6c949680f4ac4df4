$lm = [Microsoft.Win32.Registry]::LocalMachine
$o = @{ c2r = $null; msi = @(); app_paths = @{} }
$k = $lm.OpenSubKey('SOFTWARE\Microsoft\Office\ClickToRun\Configuration')
if ($k) {
  $o.c2r = New-Object PSObject -Property @{
    ProductReleaseIds = $k.GetValue('ProductReleaseIds')
    Platform = $k.GetValue('Platform')
    VersionToReport = $k.GetValue('VersionToReport')
  }
}
$apps = 'Word', 'Excel', 'PowerPoint', 'Access', 'Outlook', 'Visio', 'MS Project', 'Publisher', 'Common'
foreach ($base in 'SOFTWARE\Microsoft\Office', 'SOFTWARE\WOW6432Node\Microsoft\Office') {
  foreach ($v in '16.0', '15.0', '14.0') {
    foreach ($a in $apps) {
      $k = $lm.OpenSubKey("$base\$v\$a\InstallRoot")
      if ($k -and $k.GetValue('Path') -and ($o.msi -notcontains "$v\$a")) { $o.msi += "$v\$a" }
    }
  }
}
$exes = 'WINWORD.EXE', 'EXCEL.EXE', 'POWERPNT.EXE', 'MSACCESS.EXE', 'OUTLOOK.EXE', 'VISIO.EXE', 'WINPROJ.EXE',
  'MSPUB.EXE'
$appPaths = 'SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths',
  'SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\App Paths'
foreach ($base in $appPaths) {
  foreach ($e in $exes) {
    $k = $lm.OpenSubKey("$base\$e")
    if ($k -and -not $o.app_paths[$e]) { $p = $k.GetValue(''); if ($p) { $o.app_paths[$e] = [string]$p } }
  }
}
New-Object PSObject -Property $o | ConvertTo-Json -Depth 5 -Compress
