$csv = & auditpol.exe /get /category:* /r 2>&1 | Out-String
New-Object PSObject -Property @{ rc = $LASTEXITCODE; csv = $csv } | ConvertTo-Json -Depth 4 -Compress
