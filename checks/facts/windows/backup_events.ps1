$f = "yyyy-MM-dd'T'HH:mm:ss'Z'"
$inv = [Globalization.CultureInfo]::InvariantCulture
function E8Last($ids) {
  try {
    $filter = @{ LogName = 'Microsoft-Windows-Backup'; Id = $ids }
    $e = Get-WinEvent -FilterHashtable $filter -MaxEvents 1 -ErrorAction Stop
    $m = [string]$e.Message
    if ($m.Length -gt 200) { $m = $m.Substring(0, 200) }
    New-Object PSObject -Property @{ Id = $e.Id; Time = $e.TimeCreated.ToUniversalTime().ToString($f, $inv); Message = $m }
  } catch {
    $id = [string]$_.FullyQualifiedErrorId
    if ($id -notmatch 'NoMatchingEventsFound|NoMatchingLogsFound') {
      throw ('Get-WinEvent: ' + $_.Exception.Message + ' (' + $id + ')')
    }
  }
}
$log = @(Get-WinEvent -ListLog 'Microsoft-Windows-Backup' -ErrorAction SilentlyContinue).Count -gt 0
$bad = @(5, 8, 9, 17, 22, 49, 50, 52, 517, 518, 521, 527, 528, 544, 545, 546, 561, 564, 612)
New-Object PSObject -Property @{ LogPresent = $log; Success = (E8Last @(4)); Failure = (E8Last $bad) } | ConvertTo-Json -Depth 4 -Compress
