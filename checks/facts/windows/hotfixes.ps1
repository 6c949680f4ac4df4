Get-HotFix | Select-Object HotFixID,Description,InstalledOn | ConvertTo-Json -Depth 4 -Compress
