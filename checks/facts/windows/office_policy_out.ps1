$lm = [Microsoft.Win32.Registry]::LocalMachine
$rows += @(E8Read $lm $null 'machine' 'SOFTWARE\Policies\Microsoft\Office\16.0')
New-Object PSObject -Property @{ scanner = $me; users = $users; values = $rows } | ConvertTo-Json -Depth 5 -Compress
