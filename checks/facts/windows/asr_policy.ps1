$lm = [Microsoft.Win32.Registry]::LocalMachine
$r = @{ asr_enabled = $null; gpo_rules = @{}; mdm_rules = $null }
$k = $lm.OpenSubKey('SOFTWARE\Policies\Microsoft\Windows Defender\Windows Defender Exploit Guard\ASR')
if ($k) { $r.asr_enabled = $k.GetValue('ExploitGuard_ASR_Rules') }
$k = $lm.OpenSubKey('SOFTWARE\Policies\Microsoft\Windows Defender\Windows Defender Exploit Guard\ASR\Rules')
if ($k) { foreach ($n in $k.GetValueNames()) { $r.gpo_rules[$n] = [string]$k.GetValue($n) } }
$k = $lm.OpenSubKey('SOFTWARE\Policies\Microsoft\Windows Defender\Policy Manager')
if ($k) { $r.mdm_rules = $k.GetValue('ASRRules') }
New-Object PSObject -Property $r | ConvertTo-Json -Depth 5 -Compress
