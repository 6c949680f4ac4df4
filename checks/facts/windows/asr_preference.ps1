Get-MpPreference | Select-Object AttackSurfaceReductionRules_Ids, AttackSurfaceReductionRules_Actions, AttackSurfaceReductionOnlyExclusions | ConvertTo-Json -Depth 5 -Compress
