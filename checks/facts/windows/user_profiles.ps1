Get-WmiObject Win32_UserProfile | Select-Object SID,LocalPath,Loaded,LastUseTime,Special | ConvertTo-Json -Depth 4 -Compress
