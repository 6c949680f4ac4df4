$lm = [Microsoft.Win32.Registry]::LocalMachine
$r = @{ apps = @{}; products = @{}; lockdown = @{} }
$exes = 'AcroRd32.exe', 'Acrobat.exe', 'FoxitPDFReader.exe', 'FoxitReader.exe', 'PDFXEdit.exe'
$pattern = 'Adobe Acrobat|Acrobat Reader|Adobe Reader|Foxit|PDF-XChange|Nitro PDF|Nitro Pro|SumatraPDF'
$versions = $r.products
