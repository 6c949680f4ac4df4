Get-WmiObject Win32_OperatingSystem | Select-Object Caption,Version,BuildNumber,ProductType,OSArchitecture,LastBootUpTime | ConvertTo-Json -Depth 4 -Compress
