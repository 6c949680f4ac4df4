$optional = @('NetFx3')
$server = @('NET-Framework-Core')
$lm = [Microsoft.Win32.Registry]::LocalMachine
$k = $lm.OpenSubKey('SOFTWARE\Microsoft\NET Framework Setup\NDP\v3.5')
if ($k) { $reg = @{ present = $true; Install = $k.GetValue('Install'); Version = $k.GetValue('Version') } } else { $reg = @{ present = $false } }
