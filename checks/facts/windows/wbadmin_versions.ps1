$w = Join-Path $env:SystemRoot 'System32\wbadmin.exe'
if (Test-Path -LiteralPath $w) {
  $t = (& $w get versions 2>&1 | Out-String)
  New-Object PSObject -Property @{ Present = $true; ExitCode = $LASTEXITCODE; Text = $t } | ConvertTo-Json -Compress
} else { New-Object PSObject -Property @{ Present = $false } | ConvertTo-Json -Compress }
