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
