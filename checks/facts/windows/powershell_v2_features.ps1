$optional = @('MicrosoftWindowsPowerShellV2Root', 'MicrosoftWindowsPowerShellV2')
$server = @('PowerShell-V2')
$lm = [Microsoft.Win32.Registry]::LocalMachine
$k = $lm.OpenSubKey('SOFTWARE\Microsoft\PowerShell\1\PowerShellEngine')
if ($k) { $reg = @{ present = $true; PowerShellVersion = $k.GetValue('PowerShellVersion') } } else { $reg = @{ present = $false } }
