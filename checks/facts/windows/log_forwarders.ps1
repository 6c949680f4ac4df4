$lm = [Microsoft.Win32.Registry]::LocalMachine
$wef = @()
$k = $lm.OpenSubKey('SOFTWARE\Policies\Microsoft\Windows\EventLog\EventForwarding\SubscriptionManager')
if ($k) { foreach ($n in $k.GetValueNames()) { $wef += [string]$k.GetValue($n) } }
$lsa = $lm.OpenSubKey('SYSTEM\CurrentControlSet\Control\Lsa')
$sce = $null
if ($lsa) { $sce = $lsa.GetValue('SCENoApplyLegacyAuditPolicy') }
$names = @('SplunkForwarder', 'Splunkd', 'AzureMonitorAgent', 'HealthService', 'Elastic Agent', 'winlogbeat', 'nxlog', 'WazuhSvc', 'OssecSvc', 'Sense', 'fluent-bit', 'AmazonCloudWatchAgent', 'datadogagent', 'Snare', 'elastic-agent', 'WinCollect', 'ir_agent', 'sumo-collector')
$svc = @(Get-WmiObject Win32_Service | Where-Object { $names -contains $_.Name } | ForEach-Object { New-Object PSObject -Property @{ name = $_.Name; state = $_.State; start = $_.StartMode } })
New-Object PSObject -Property @{ wef = $wef; services = $svc; sce_no_apply_legacy = $sce } | ConvertTo-Json -Depth 4 -Compress
