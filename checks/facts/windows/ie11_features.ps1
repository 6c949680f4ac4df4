$optional = @('Internet-Explorer-Optional-amd64', 'Internet-Explorer-Optional-x86')
$server = @()
$lm = [Microsoft.Win32.Registry]::LocalMachine
$k = $lm.OpenSubKey('SOFTWARE\Policies\Microsoft\Internet Explorer\Main')
$reg = @{ NotifyDisableIEOptions = $null; iexplore = $null }
if ($k) { $reg.NotifyDisableIEOptions = $k.GetValue('NotifyDisableIEOptions') }
$reg.iexplore = [IO.File]::Exists((Join-Path $env:ProgramFiles 'Internet Explorer\iexplore.exe'))
