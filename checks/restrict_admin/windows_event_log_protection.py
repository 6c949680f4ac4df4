"""Windows: event logs protected from modification and deletion (ISM-1815), for restrict_admin.

The evidence, judge and full explanation are shared by the four strategies that carry ISM-1815
(``checks/_event_log_protection.py``); the catalogue shows the whole text.
"""

from checks._event_log_protection import event_log_protection
from scanner.model.vocabulary import Platform, Strategy

CHECK = event_log_protection(Strategy.RESTRICT_ADMIN, Platform.WINDOWS)
