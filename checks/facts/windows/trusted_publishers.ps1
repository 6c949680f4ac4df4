$fmt = "yyyy-MM-dd'T'HH:mm:ss'Z'"
$inv = [Globalization.CultureInfo]::InvariantCulture
$certs = @()
foreach ($c in @(Get-ChildItem Cert:\LocalMachine\TrustedPublisher)) {
  $certs += New-Object PSObject -Property @{ store = 'machine'; subject = [string]$c.Subject;
    thumbprint = [string]$c.Thumbprint; not_before = $c.NotBefore.ToUniversalTime().ToString($fmt, $inv);
    not_after = $c.NotAfter.ToUniversalTime().ToString($fmt, $inv) }
}
$hku = [Microsoft.Win32.Registry]::Users
foreach ($sid in $hku.GetSubKeyNames()) {
  if ($sid -notmatch '^S-1-(5-21|12-1)-[0-9-]+$') { continue }
  foreach ($b in 'Software\Microsoft\SystemCertificates', 'Software\Policies\Microsoft\SystemCertificates') {
    $k = $hku.OpenSubKey("$sid\$b\TrustedPublisher\Certificates")
    if (-not $k) { continue }
    foreach ($t in $k.GetSubKeyNames()) {
      $certs += New-Object PSObject -Property @{ store = "user $sid"; subject = $null; thumbprint = $t;
        not_before = $null; not_after = $null }
    }
  }
}
New-Object PSObject -Property @{ certificates = $certs } | ConvertTo-Json -Depth 4 -Compress
