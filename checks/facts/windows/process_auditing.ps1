$r = @{ auditpol = $null; auditpol_rc = $null; cmdline = $null }
$r.auditpol = (& auditpol.exe /get '/subcategory:{0CCE922B-69AE-11D9-BED3-505054503030}' /r | Out-String)
$r.auditpol_rc = $LASTEXITCODE
$lm = [Microsoft.Win32.Registry]::LocalMachine
$k = $lm.OpenSubKey('SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\Audit')
if ($k) { $r.cmdline = $k.GetValue('ProcessCreationIncludeCmdLine_Enabled') }
New-Object PSObject -Property $r | ConvertTo-Json -Depth 4 -Compress
