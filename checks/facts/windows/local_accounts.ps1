$pc = $env:COMPUTERNAME
$os = Get-WmiObject Win32_OperatingSystem
$fmt = "yyyy-MM-dd'T'HH:mm:ss'Z'"
$inv = [Globalization.CultureInfo]::InvariantCulture
$users = @()
if ([int]$os.ProductType -ne 2) {
  foreach ($u in @(([ADSI]"WinNT://$pc").Children | Where-Object { $_.SchemaClassName -eq 'User' })) {
    $sid = $null
    $exp = $null
    try { $sid = (New-Object System.Security.Principal.SecurityIdentifier($u.objectSid.Value, 0)).Value } catch { }
    try { $exp = ([datetime]$u.InvokeGet('AccountExpirationDate')).ToUniversalTime().ToString($fmt, $inv) } catch { }
    $users += New-Object PSObject -Property @{
      name = [string]$u.Name.Value
      sid = $sid
      expires = $exp
      flags = [int]$u.UserFlags.Value
    }
  }
}
New-Object PSObject -Property @{ product_type = [int]$os.ProductType; users = $users } |
  ConvertTo-Json -Depth 4 -Compress
