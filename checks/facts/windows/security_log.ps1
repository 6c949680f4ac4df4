$gl = & wevtutil.exe gl Security 2>&1 | Out-String
New-Object PSObject -Property @{ rc = $LASTEXITCODE; text = $gl } | ConvertTo-Json -Depth 4 -Compress
